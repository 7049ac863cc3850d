import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { resolveConnection } from '../../src/kube/kubeconfig.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'kubeconfig-test-'));

function file(name: string, text: string): string {
  const full = path.join(dir, name);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, text);
  return full;
}

const first = file(
  'a/config',
  `apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster: {server: https://one.example:6443, certificate-authority: ca.crt}
- name: shared
  cluster: {server: https://first.example}
users:
- name: u1
  user: {token: t1, client-certificate: certs/u1.crt}
contexts:
- name: one
  context: {cluster: c1, user: u1, namespace: team-a}
- name: shared
  context: {cluster: shared, user: u1}
`,
);
const second = file(
  'b/config',
  `apiVersion: v1
kind: Config
current-context: two
clusters:
- name: shared
  cluster: {server: https://second.example}
- name: c2
  cluster: {server: https://two.example}
users:
- name: u2
  user: {token: t2}
contexts:
- name: two
  context: {cluster: c2, user: u2}
- name: shared
  context: {cluster: c2, user: u2}
`,
);

const env = (KUBECONFIG: string) => ({ env: { KUBECONFIG }, homeDir: dir });

test('KUBECONFIG with several files: the first current-context wins', () => {
  const connection = resolveConnection({}, env(`${first}:${second}`));
  assert.equal(connection.contextName, 'one');
  assert.equal(connection.cluster.server, 'https://one.example:6443');
  assert.equal(connection.namespace, 'team-a');
});

test('KUBECONFIG with several files: a later duplicate name is skipped', () => {
  const connection = resolveConnection({ context: 'shared' }, env(`${first}:${second}`));
  assert.equal(connection.cluster.server, 'https://first.example');
  const fromSecond = resolveConnection({ context: 'two' }, env(`${first}:${second}`));
  assert.equal(fromSecond.cluster.server, 'https://two.example');
});

test('missing files in KUBECONFIG are skipped, as kubectl does', () => {
  const connection = resolveConnection({}, env(`${path.join(dir, 'nope')}:${second}`));
  assert.equal(connection.contextName, 'two');
});

test('relative paths resolve against the file that names them', () => {
  const connection = resolveConnection({}, env(first));
  assert.equal(connection.cluster['certificate-authority'], path.join(dir, 'a', 'ca.crt'));
  assert.equal(connection.user['client-certificate'], path.join(dir, 'a', 'certs', 'u1.crt'));
});

test('namespace: -n, else the context namespace, else default', () => {
  assert.equal(resolveConnection({ namespace: 'x' }, env(first)).namespace, 'x');
  assert.equal(resolveConnection({ namespace: 'x' }, env(first)).namespaceFromFlag, true);
  assert.equal(resolveConnection({ context: 'two' }, env(second)).namespace, 'default');
});

test('an unknown --context is a usage error that lists the contexts', () => {
  assert.throws(
    () => resolveConnection({ context: 'prod' }, env(`${first}:${second}`)),
    (error: Error) =>
      error instanceof UsageError &&
      /context "prod" does not exist/.test(error.message) &&
      /one, shared, two/.test(error.message),
  );
});

test('--cluster, --user, --server, --token and impersonation override the context', () => {
  const connection = resolveConnection(
    { cluster: 'c2', user: 'u2', token: 'flag-token', as: 'bob', asGroup: ['g'], asUid: '42' },
    env(`${first}:${second}`),
  );
  assert.equal(connection.cluster.server, 'https://two.example');
  assert.equal(connection.user.token, 'flag-token');
  assert.equal(connection.user.as, 'bob');
  assert.deepEqual(connection.user['as-groups'], ['g']);
  assert.equal(connection.user['as-uid'], '42');
  assert.equal(
    resolveConnection({ server: 'https://flag.example' }, env(first)).cluster.server,
    'https://flag.example',
  );
});

test('--insecure-skip-tls-verify drops the CA; --certificate-authority replaces it', () => {
  const insecure = resolveConnection({ insecureSkipTlsVerify: true }, env(first));
  assert.equal(insecure.cluster['insecure-skip-tls-verify'], true);
  assert.equal(insecure.cluster['certificate-authority'], undefined);
  const ca = resolveConnection({ certificateAuthority: 'my-ca.crt' }, env(first));
  assert.equal(ca.cluster['certificate-authority'], path.resolve('my-ca.crt'));
});

test('--kubeconfig overrides KUBECONFIG and must exist', () => {
  assert.equal(resolveConnection({ kubeconfig: second }, env(first)).contextName, 'two');
  assert.throws(
    () => resolveConnection({ kubeconfig: path.join(dir, 'missing') }, env(first)),
    /no such file/,
  );
});

test('malformed, empty and odd kubeconfigs are clear usage errors', () => {
  const bad = file('bad', 'clusters: [\n  - {name: x');
  assert.throws(
    () => resolveConnection({}, env(bad)),
    (error: Error) => error instanceof UsageError && /not valid YAML/.test(error.message),
  );
  const empty = file('empty', '');
  assert.throws(() => resolveConnection({}, env(empty)), /no current context/);
  const list = file('list', '- a\n- b\n');
  assert.throws(() => resolveConnection({}, env(list)), /not a kubeconfig/);
  const missingCluster = file(
    'dangling',
    'current-context: x\ncontexts:\n- name: x\n  context: {cluster: gone, user: u}\n',
  );
  assert.throws(() => resolveConnection({}, env(missingCluster)), /cluster "gone" does not exist/);
});

test('no kubeconfig at all: in-cluster when a service account is mounted, else an error', () => {
  const sa = path.join(dir, 'sa');
  file('sa/token', 'sa-token');
  file('sa/namespace', 'db-ns');
  const environment = {
    env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
    homeDir: path.join(dir, 'home'),
    serviceAccountDir: sa,
  };
  const connection = resolveConnection({}, environment);
  assert.equal(connection.inCluster, true);
  assert.equal(connection.cluster.server, 'https://10.0.0.1:443');
  assert.equal(connection.namespace, 'db-ns');
  assert.equal(connection.user.tokenFile, path.join(sa, 'token'));
  assert.throws(
    () => resolveConnection({}, { env: {}, homeDir: path.join(dir, 'home') }),
    /no kubeconfig found/,
  );
});

test('flags alone, with no kubeconfig: --server and --token make the configuration', () => {
  const connection = resolveConnection(
    { server: 'https://flag.example:6443', token: 'T' },
    { env: {}, homeDir: path.join(dir, 'home') },
  );
  assert.equal(connection.cluster.server, 'https://flag.example:6443');
  assert.equal(connection.user.token, 'T');
  assert.equal(connection.namespace, 'default');
});

const tlsConfig = file(
  'tls/config',
  `current-context: insecure
clusters:
- name: insecure
  cluster: {server: https://insecure.example, insecure-skip-tls-verify: true, tls-server-name: api.internal}
- name: both
  cluster: {server: https://both.example, insecure-skip-tls-verify: true, certificate-authority-data: Q0E=}
- name: bare
  cluster: {server: "127.0.0.1:6443"}
- name: bare-tls
  cluster: {server: "127.0.0.1:6443", certificate-authority-data: Q0E=}
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/get-token, interactiveMode: Never}
- name: on-path
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, interactiveMode: Never}
contexts:
- name: insecure
  context: {cluster: insecure, user: u}
- name: both
  context: {cluster: both, user: u}
- name: bare
  context: {cluster: bare, user: on-path}
- name: bare-tls
  context: {cluster: bare-tls, user: u}
`,
);

test('--certificate-authority switches verification back on; insecure plus a CA is refused', () => {
  const withCa = resolveConnection({ certificateAuthority: 'ca.crt' }, env(tlsConfig));
  assert.equal(withCa.cluster['insecure-skip-tls-verify'], false);
  assert.equal(withCa.cluster['certificate-authority'], path.resolve('ca.crt'));
  assert.throws(
    () => resolveConnection({ context: 'both' }, env(tlsConfig)),
    (error: Error) =>
      error instanceof UsageError && /root certificates file with the insecure flag/.test(error.message),
  );
});

test('--server drops the kubeconfig tls-server-name; --tls-server-name sets it', () => {
  assert.equal(resolveConnection({}, env(tlsConfig)).cluster['tls-server-name'], 'api.internal');
  const moved = resolveConnection({ server: 'https://elsewhere.example' }, env(tlsConfig));
  assert.equal(moved.cluster['tls-server-name'], undefined);
  const named = resolveConnection({ server: 'https://e.example', tlsServerName: 'n' }, env(tlsConfig));
  assert.equal(named.cluster['tls-server-name'], 'n');
});

test('a server without a scheme, or with another one, is a clear usage error', () => {
  assert.throws(
    () => resolveConnection({ context: 'bare' }, env(tlsConfig)),
    /the server address "127\.0\.0\.1:6443" has no scheme: write https:\/\/127\.0\.0\.1:6443/,
  );
  assert.throws(() => resolveConnection({ server: 'localhost:6443' }, env(tlsConfig)), /has no scheme/);
  assert.throws(
    () => resolveConnection({ server: 'ftp://x.example' }, env(tlsConfig)),
    /has the scheme "ftp"/,
  );
});

test('--as-group or --as-uid without --as is a usage error', () => {
  assert.throws(() => resolveConnection({ asGroup: ['g'] }, env(first)), /--as-group needs --as/);
  assert.throws(() => resolveConnection({ asUid: '1' }, env(first)), /--as-uid needs --as/);
});

test('an exec command with a slash is relative to its kubeconfig; a bare name stays on PATH', () => {
  const relative = resolveConnection({}, env(tlsConfig)).user.exec as { command: string };
  assert.equal(relative.command, path.join(dir, 'tls', 'bin', 'get-token'));
  const bare = resolveConnection({ user: 'on-path' }, env(tlsConfig)).user.exec as { command: string };
  assert.equal(bare.command, 'get-token');
});
