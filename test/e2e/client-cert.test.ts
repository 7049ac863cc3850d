/**
 * `tls client-cert`, `tls ca` and `tls connect-info` end to end: the compiled binary, the real
 * cert-manager issuing from the database's own Issuer, files on disk. Bad input: one clear line, the
 * documented exit code, nothing written (no object created, no file touched).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import type { ConnectInfo } from '../../src/commands/tls/connect-info/connect-info.ts';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Certificate, Secret } from '../../src/kubedb/types.ts';
import type { StatusReport } from '../../src/tls/report.ts';
import {
  adminClient,
  certificatesReady,
  clusterEnv,
  eventually,
  kubectlApply,
  namespaceWithIssuer,
  repoRoot,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const ns = 'client-cert-e2e';
const client = adminClient();
const work = mkdtempSync(path.join(tmpdir(), 'client-cert-e2e-'));
const plugin = (args: string[]) => runPlugin([...args, '-n', ns, '--context', 'admin']);
const clientCert = (args: string[]) => plugin(['tls', 'client-cert', 'sdb', '--progress=plain', ...args]);
const ours =
  'app.kubernetes.io/managed-by=kubectl-singlestore,app.kubernetes.io/component=client-certificate';
const clientCertificates = async () =>
  (await client.list<Certificate>(Resources.certificate, { namespace: ns, labelSelector: ours })).items;
const schema = (file: string) =>
  new Ajv({ strict: false, formats: { 'date-time': true } }).compile(
    JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')),
  );
/** stderr holds one `error:` line (and, for usage errors, the help hint) and no stack trace. */
function oneErrorLine(stderr: string): void {
  const errors = stderr.split('\n').filter((line) => line.startsWith('error:'));
  assert.equal(errors.length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
}
const snapshot = (dir: string) =>
  Object.fromEntries(readdirSync(dir).map((file) => [file, readFileSync(path.join(dir, file), 'utf8')]));

describe('tls client-cert, ca, connect-info', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(
      [singlestoreYaml('sdb', ns, { issuer: 'sdb-issuer' }), singlestoreYaml('plain', ns)].join('\n---\n'),
    );
    await certificatesReady(ns, 'sdb');
  });

  test('issues a certificate for a user and writes ca.crt, tls.crt, tls.key (key 0600); a re-run is a no-op', async () => {
    const out = path.join(work, 'app');
    const result = await clientCert(['--db-user', 'app', '--out', out]);
    assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^created Certificate client-cert-e2e\/sdb-user-app-[0-9a-f]{8} for user "app"$/m,
    );
    assert.match(result.stdout, /wrote ca.crt, tls.crt, tls.key in .* \(tls.key mode 0600\)/);
    assert.match(result.stderr, /Certificates Ready: done/);
    assert.deepEqual(readdirSync(out).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    assert.equal(statSync(path.join(out, 'tls.key')).mode & 0o777, 0o600);
    assert.doesNotMatch(result.stdout + result.stderr, /PRIVATE KEY/);
    const leaf = new X509Certificate(readFileSync(path.join(out, 'tls.crt')));
    const ca = new X509Certificate(readFileSync(path.join(out, 'ca.crt')));
    assert.equal(leaf.subject, 'CN=app');
    assert.ok(leaf.verify(ca.publicKey), 'tls.crt is signed by ca.crt');
    assert.ok(
      leaf.checkPrivateKey(
        (await import('node:crypto')).createPrivateKey(readFileSync(path.join(out, 'tls.key'))),
      ),
    );
    // The same CA as the server certificate: the database's own issuer.
    const server = await client.get<Secret>(Resources.secret, ns, 'sdb-server-cert');
    assert.equal(
      Buffer.from(server.data?.['ca.crt'] ?? '', 'base64').toString(),
      readFileSync(path.join(out, 'ca.crt'), 'utf8'),
    );

    const [certificate] = await clientCertificates();
    assert.ok(certificate);
    assert.equal(certificate.metadata.labels?.['app.kubernetes.io/instance'], 'sdb');
    assert.equal(certificate.metadata.ownerReferences?.[0]?.kind, 'Singlestore');
    assert.equal(certificate.spec.issuerRef.name, 'sdb-issuer');
    const secret = await client.get<Secret>(Resources.secret, ns, certificate.spec.secretName);
    assert.equal(secret.metadata.ownerReferences?.[0]?.name, 'sdb', 'the Secret goes with the database too');
    assert.equal(secret.metadata.labels?.['app.kubernetes.io/managed-by'], 'kubectl-singlestore');

    const before = snapshot(out);
    const mtime = statSync(path.join(out, 'tls.key')).mtimeMs;
    const again = await clientCert(['--db-user', 'app', '--out', out]);
    assert.equal(again.code, ExitCode.ok, again.stderr);
    assert.match(again.stdout, /exists with these settings/);
    assert.match(again.stdout, /are up to date: nothing to write/);
    assert.deepEqual(snapshot(out), before);
    assert.equal(statSync(path.join(out, 'tls.key')).mtimeMs, mtime);
  });

  test('after cert-manager renewed the certificate, a re-run refreshes the files', async () => {
    const out = path.join(work, 'app');
    const old = readFileSync(path.join(out, 'tls.crt'), 'utf8');
    const [certificate] = await clientCertificates();
    assert.ok(certificate);
    // A renewal the cmctl way: Issuing=True through the status subresource.
    await client.patch(
      Resources.certificate,
      { namespace: ns, name: certificate.metadata.name },
      {
        status: {
          conditions: [
            ...(certificate.status?.conditions ?? []),
            { type: 'Issuing', status: 'True', reason: 'ManuallyTriggered', message: 'test renewal' },
          ],
        },
      },
      { subresource: 'status' },
    );
    await eventually('renewed', async () => {
      const current = await client.get<Certificate>(Resources.certificate, ns, certificate.metadata.name);
      return (current.status?.revision ?? 0) > (certificate.status?.revision ?? 0);
    });
    const result = await clientCert(['--db-user', 'app', '--out', out]);
    assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    assert.match(result.stdout, /refreshed ca.crt, tls.crt, tls.key/);
    assert.notEqual(readFileSync(path.join(out, 'tls.crt'), 'utf8'), old);
    assert.equal(statSync(path.join(out, 'tls.key')).mode & 0o777, 0o600);
  });

  test('a_b and a-b get two Certificates; --list shows them (JSON per its schema); --delete removes one', async () => {
    for (const user of ['a_b', 'a-b']) {
      const result = await clientCert(['--db-user', user, '--secret-only']);
      assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
      assert.match(result.stdout, /the certificate is in Secret client-cert-e2e\/sdb-user-a-b-[0-9a-f]{8}/);
    }
    const names = (await clientCertificates()).map((c) => c.metadata.name);
    assert.equal(new Set(names).size, 3);
    const list = await clientCert(['--list']);
    assert.equal(list.code, ExitCode.ok, list.stderr);
    assert.match(list.stdout, /^USER\s+CERTIFICATE\s+READY\s+NOT AFTER\n/);
    assert.match(list.stdout, /^a-b\s+sdb-user-a-b-\w+\s+True/m);
    assert.match(list.stdout, /^a_b\s+sdb-user-a-b-\w+\s+True/m);
    const json = await clientCert(['--list', '-o', 'json']);
    const parsed: { items: { user: string }[] } = JSON.parse(json.stdout);
    const validate = schema('src/commands/tls/client-cert/list.schema.json');
    assert.ok(validate(parsed), JSON.stringify(validate.errors));
    assert.deepEqual(
      parsed.items.map((item: { user: string }) => item.user),
      ['a-b', 'a_b', 'app'],
    );

    const removed = await clientCert(['--delete', 'a-b']);
    assert.equal(removed.code, ExitCode.ok, removed.stderr);
    assert.match(removed.stdout, /deleted Certificate .* and its Secret \(user "a-b"\)/);
    const left = await clientCertificates();
    assert.deepEqual(
      left.map((c) => c.metadata.annotations?.['kubectl-singlestore.kubedb.com/db-user']).sort(),
      ['a_b', 'app'],
    );
    const secrets = await client.list<Secret>(Resources.secret, { namespace: ns, labelSelector: ours });
    assert.equal(secrets.items.length, 2);
    const again = await clientCert(['--delete', 'a-b']);
    assert.equal(again.code, ExitCode.ok);
    assert.match(again.stdout, /nothing to delete/);
  });

  test('--dry-run=client prints the Certificate and sends nothing; --dry-run=server stores nothing', async () => {
    const client_ = await clientCert(['--db-user', 'dry', '--dry-run=client', '-o', 'yaml']);
    assert.equal(client_.code, ExitCode.ok, client_.stderr);
    assert.match(client_.stdout, /^kind: Certificate$/m);
    assert.match(client_.stdout, /commonName: dry/);
    assert.match(client_.stderr, /would create Certificate .* \(dry run\)/);
    const server = await clientCert(['--db-user', 'dry', '--dry-run=server', '-o', 'json']);
    assert.equal(server.code, ExitCode.ok, server.stderr);
    assert.equal(JSON.parse(server.stdout).kind, 'Certificate');
    assert.ok(!(await clientCertificates()).some((c) => c.spec.commonName === 'dry'));
  });

  describe('bad input: one line, the documented exit code, nothing written', () => {
    const cases: { name: string; args: string[]; code: number; message: RegExp; out?: () => string }[] = [
      {
        name: 'unknown database',
        args: ['tls', 'client-cert', 'nope', '--db-user', 'x1', '--secret-only'],
        code: ExitCode.runtime,
        message: /singlestores.kubedb.com "nope" not found/,
      },
      {
        name: 'TLS off',
        args: ['tls', 'client-cert', 'plain', '--db-user', 'x1', '--secret-only'],
        code: ExitCode.runtime,
        message: /TLS is not enabled on Singlestore client-cert-e2e\/plain/,
      },
      {
        name: 'invalid user name (too long)',
        args: ['tls', 'client-cert', 'sdb', '--db-user', 'x'.repeat(33), '--secret-only'],
        code: ExitCode.usage,
        message: /invalid database user .*32 characters/,
      },
      {
        name: 'invalid user name (quote)',
        args: ['tls', 'client-cert', 'sdb', '--db-user', "o'neil", '--secret-only'],
        code: ExitCode.usage,
        message: /invalid database user/,
      },
      {
        name: 'unwritable --out',
        args: ['tls', 'client-cert', 'sdb', '--db-user', 'x1', '--out', '/proc/version/certs'],
        code: ExitCode.runtime,
        message: /--out \/proc\/version\/certs: cannot write there/,
      },
      {
        name: '--out is a file',
        args: ['tls', 'client-cert', 'sdb', '--db-user', 'x1', '--out', '/proc/version'],
        code: ExitCode.runtime,
        message: /exists and is not a folder/,
      },
      {
        name: 'existing different files',
        args: ['tls', 'client-cert', 'sdb', '--db-user', 'x1', '--out', path.join(work, 'app')],
        code: ExitCode.runtime,
        message: /already exist \(a certificate for \/CN=app\); pass --overwrite/,
      },
      {
        name: 'nowhere for the files',
        args: ['tls', 'client-cert', 'sdb', '--db-user', 'x1'],
        code: ExitCode.usage,
        message: /--out DIR \(files\), or --secret-only/,
      },
      {
        name: 'connect-info: TLS off',
        args: ['tls', 'connect-info', 'plain', '--db-user', 'x1'],
        code: ExitCode.runtime,
        message: /TLS is not enabled/,
      },
      {
        name: 'connect-info: invalid user',
        args: ['tls', 'connect-info', 'sdb', '--db-user', 'a b'],
        code: ExitCode.usage,
        message: /invalid database user/,
      },
      {
        name: 'ca: unknown database',
        args: ['tls', 'ca', 'nope'],
        code: ExitCode.runtime,
        message: /not found/,
      },
      {
        name: 'ca: TLS off',
        args: ['tls', 'ca', 'plain'],
        code: ExitCode.runtime,
        message: /TLS is not enabled/,
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const appFiles = snapshot(path.join(work, 'app'));
        const before = (await clientCertificates()).length;
        const result = await plugin(c.args);
        assert.equal(result.code, c.code, result.stdout + result.stderr);
        assert.match(result.stderr, c.message);
        oneErrorLine(result.stderr);
        assert.equal(result.stdout, '');
        assert.equal((await clientCertificates()).length, before, 'no Certificate created');
        assert.deepEqual(snapshot(path.join(work, 'app')), appFiles, 'no file touched');
        assert.ok(!existsSync('/proc/version/certs'));
      });
    }
  });

  test('tls ca: the bundle to trust, to stdout or a file (idempotent)', async () => {
    const result = await plugin(['tls', 'ca', 'sdb']);
    assert.equal(result.code, ExitCode.ok, result.stderr);
    const server = await client.get<Secret>(Resources.secret, ns, 'sdb-server-cert');
    assert.equal(
      result.stdout.trim(),
      Buffer.from(server.data?.['ca.crt'] ?? '', 'base64')
        .toString()
        .trim(),
    );
    assert.equal(result.stderr, '');
    const file = path.join(work, 'bundle', 'ca.pem');
    mkdirSync(path.dirname(file));
    const written = await plugin(['tls', 'ca', 'sdb', '--out', file]);
    assert.equal(written.code, ExitCode.ok, written.stderr);
    assert.match(written.stderr, /wrote .*ca.pem \(1 CA certificate\(s\)\)/);
    assert.equal(readFileSync(file, 'utf8'), result.stdout);
    const again = await plugin(['tls', 'ca', 'sdb', '--out', file]);
    assert.match(again.stderr, /up to date/);
    writeFileSync(path.join(work, 'bundle', 'notes.txt'), 'mine');
    const refused = await plugin(['tls', 'ca', 'sdb', '--out', path.join(work, 'bundle', 'notes.txt')]);
    assert.equal(refused.code, ExitCode.runtime);
    oneErrorLine(refused.stderr);
    assert.equal(readFileSync(path.join(work, 'bundle', 'notes.txt'), 'utf8'), 'mine');
  });

  test('connect-info: verifying settings, the files, and the exact subject read from the certificate', async () => {
    const out = path.join(work, 'connect');
    const result = await plugin([
      'tls',
      'connect-info',
      'sdb',
      '--db-user',
      'app',
      '--out',
      out,
      '-o',
      'json',
    ]);
    assert.equal(result.code, ExitCode.ok, result.stderr);
    const info: ConnectInfo = JSON.parse(result.stdout);
    const validate = schema('src/commands/tls/connect-info/connect-info.schema.json');
    assert.ok(validate(info), JSON.stringify(validate.errors));
    assert.equal(info.subject, '/CN=app');
    assert.equal(info.subjectFromCertificate, true);
    assert.deepEqual(info.sql.requireSubject, [
      "CREATE USER 'app'@'%' REQUIRE SUBJECT '/CN=app';",
      "ALTER USER 'app'@'%' REQUIRE SUBJECT '/CN=app';",
    ]);
    assert.equal(info.inCluster.host, 'sdb.client-cert-e2e.svc');
    assert.deepEqual(readdirSync(out).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    assert.equal(statSync(path.join(out, 'tls.key')).mode & 0o777, 0o600);
    assert.equal(
      readFileSync(path.join(out, 'tls.crt'), 'utf8'),
      readFileSync(path.join(work, 'app', 'tls.crt'), 'utf8'),
    );
    const text = await plugin(['tls', 'connect-info', 'sdb', '--db-user', 'app']);
    assert.equal(text.code, ExitCode.ok, text.stderr);
    assert.match(
      text.stdout,
      /^mariadb --protocol=TCP -h sdb.client-cert-e2e.svc -P 3306 -u app --ssl-verify-server-cert --ssl-ca=ca.crt --ssl-cert=tls.crt --ssl-key=tls.key$/m,
    );
    assert.match(text.stdout, /^kubectl port-forward -n client-cert-e2e svc\/sdb 3306:3306 &$/m);
    assert.match(text.stdout, /^ALTER USER 'app'@'%' REQUIRE X509;$/m);
    assert.doesNotMatch(text.stdout, /PRIVATE KEY/);
    const missing = await plugin([
      'tls',
      'connect-info',
      'sdb',
      '--db-user',
      'nobody',
      '--out',
      path.join(work, 'nobody'),
    ]);
    assert.equal(missing.code, ExitCode.runtime);
    assert.match(missing.stderr, /no client certificate for user "nobody"/);
    assert.ok(!existsSync(path.join(work, 'nobody')));
  });

  test("tls status lists the client certificates beside KubeDB's own", async () => {
    const result = await plugin(['tls', 'status', 'sdb', '--probe=false', '-o', 'json']);
    const report = JSON.parse(result.stdout) as StatusReport;
    const db = report.databases[0];
    assert.deepEqual(
      db?.clientCertificates?.map((c) => [c.user, c.ready, c.secret.certificate?.signedByCa]),
      [
        ['a_b', true, 'signed'],
        ['app', true, 'signed'],
      ],
    );
    assert.equal(result.code, ExitCode.ok, JSON.stringify(db?.findings));
    const validate = schema('src/tls/report.schema.json');
    assert.ok(validate(report), JSON.stringify(validate.errors));
    const text = await plugin(['tls', 'status', 'sdb', '--probe=false']);
    assert.match(
      text.stdout,
      /Client certificates \(tls client-cert\):\n {2}user a_b: Certificate sdb-user-a-b-\w+, Ready; CN=a_b, expires/,
    );
  });

  test('each command works as a user with exactly the client-cert role of docs/rbac.yaml', async () => {
    kubectlApply(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: client-cert-user, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-singlestore-client-cert}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: status-user}]`);
    const token = clusterEnv().STATUS_TOKEN as string;
    const as = (args: string[]) => runPlugin([...args, '-n', ns, '--token', token], { timeoutMs: 120_000 });
    const out = path.join(work, 'rbac');
    for (const args of [
      ['tls', 'client-cert', 'sdb', '--db-user', 'rbac', '--out', out, '--progress=plain'],
      ['tls', 'client-cert', 'sdb', '--list'],
      ['tls', 'ca', 'sdb'],
      ['tls', 'connect-info', 'sdb', '--db-user', 'rbac'],
      ['tls', 'client-cert', 'sdb', '--delete', 'rbac'],
    ]) {
      const result = await as(args);
      assert.equal(result.code, ExitCode.ok, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.doesNotMatch(result.stderr, /forbidden|note:/);
    }
    assert.deepEqual(readdirSync(out).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
  });

  test('tls ca during a CA rotation: the old and the new CA, with a note', async () => {
    const before = await plugin(['tls', 'ca', 'sdb']);
    // Rotating the CA the cert-manager way: its Secret re-issued; no leaf is re-issued with it.
    const old = await client.get<Secret>(Resources.secret, ns, 'sdb-ca');
    await client.delete(Resources.secret, ns, 'sdb-ca');
    await eventually('a new CA', async () => {
      const secret = await client.find<Secret>(Resources.secret, ns, 'sdb-ca');
      return secret && secret.data?.['tls.crt'] !== old.data?.['tls.crt'];
    });
    const during = await plugin(['tls', 'ca', 'sdb']);
    assert.equal(during.code, ExitCode.ok, during.stderr);
    assert.equal((during.stdout.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    assert.ok(during.stdout.startsWith(before.stdout.trim()), 'the old CA first');
    assert.match(
      during.stderr,
      /^note: the issuer now signs with another CA .* the bundle holds the old and the new CA/m,
    );
  });
});
