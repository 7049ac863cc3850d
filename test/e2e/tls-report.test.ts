/**
 * `tls report` end to end: the compiled binary writes the archive from the real control plane, and
 * the test reads it back with the system's tar. Canaries planted where secrets hide (a Secret value,
 * a last-applied-configuration annotation holding a Secret, a literal env value, the kubeconfig
 * token) must appear nowhere in the archive, raw or base64; with --redact-names no namespace or object
 * name of the test appears either. Crafted broken databases must carry the same first finding in the
 * archive as `tls status` gives.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { gunzipSync } from 'node:zlib';
import yaml from 'js-yaml';
import { ExitCode } from '../../src/errors.ts';
import type { Finding, StatusReport } from '../../src/tls/report.ts';
import { forgeCertificate } from '../support/x509-forge.ts';
import {
  certificatesReady,
  kubeconfig,
  kubectl,
  kubectlApply,
  namespaceWithIssuer,
  repoRoot,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const ns = 'report-e2e';
const day = 86_400_000;
const canaries = {
  secretValue: 'CANARY-secret-value-7f3a9c1e5b',
  lastApplied: 'CANARY-last-applied-password-2d8e4f6a0c',
  envValue: 'CANARY-literal-env-value-9b1c3e5d7f',
};
const work = mkdtempSync(path.join(os.tmpdir(), 'tls-report-'));

function kubeconfigTokens(): string[] {
  const doc = yaml.load(readFileSync(kubeconfig, 'utf8')) as { users?: { user?: { token?: string } }[] };
  return (doc.users ?? []).flatMap((user) => (user.user?.token ? [user.user.token] : []));
}

/** Every way a canary could be written: as is, and base64 at each of the three alignments. */
function encodings(canary: string): string[] {
  return [0, 1, 2].map((shift) => {
    const encoded = Buffer.from(canary.slice(shift)).toString('base64');
    return encoded.slice(0, encoded.length - 4);
  });
}

function leaks(archive: string, needles: string[]): string[] {
  return leaksIn(gunzipSync(readFileSync(archive)).toString('latin1'), needles);
}

function leaksIn(raw: string, needles: string[]): string[] {
  return needles.flatMap((needle) =>
    [needle, ...encodings(needle)].filter((form) => raw.includes(form)).map((form) => `${needle} as ${form}`),
  );
}

function extract(archive: string): string {
  const dir = mkdtempSync(path.join(work, 'x-'));
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  return dir;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => statSync(path.join(dir, entry)).isFile())
    .sort();
}

const ca = forgeCertificate({
  commonName: 'report-ca',
  notBefore: new Date(Date.now() - 10 * day),
  notAfter: new Date(Date.now() + 3650 * day),
  isCA: true,
});

function tlsData(name: string, overrides: Partial<Parameters<typeof forgeCertificate>[0]> = {}) {
  const leaf = forgeCertificate({
    commonName: name,
    notBefore: new Date(Date.now() - day),
    notAfter: new Date(Date.now() + 90 * day),
    dnsNames: [`${name}.${ns}.svc`],
    issuer: ca,
    ...overrides,
  });
  return { 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': ca.pem };
}

/** A database whose Secrets the test writes (the stand-in ignores it, no issuer signs for it). */
function craftedDatabase(
  name: string,
  server: Record<string, string> | undefined,
  issuer = 'sdb-issuer',
): string[] {
  const labels = `app.kubernetes.io/name: singlestores.kubedb.com, app.kubernetes.io/instance: ${name}`;
  const documents = [
    singlestoreYaml(name, ns, {
      issuer,
      annotations: { 'standin.kubectl-singlestore.test/ignore': 'true' },
    }),
  ];
  for (const alias of ['server', 'client'] as const) {
    documents.push(`apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: ${name}-${alias}-cert, namespace: ${ns}, labels: {${labels}}}
spec:
  secretName: ${name}-${alias}-cert
  commonName: ${name}
  issuerRef: {group: external.example.invalid, kind: ExternalIssuer, name: nobody}`);
    const data = alias === 'server' ? server : tlsData('client');
    if (data) {
      const encoded = Object.entries(data).map(([k, v]) => `  ${k}: ${Buffer.from(v).toString('base64')}`);
      documents.push(
        `apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: ${name}-${alias}-cert, namespace: ${ns}}\ndata:\n${encoded.join('\n')}`,
      );
    }
  }
  return documents;
}

const broken: Record<string, Record<string, string> | undefined> = {
  'rpt-no-secret': undefined,
  'rpt-expired': tlsData('rpt-expired', {
    notBefore: new Date(Date.now() - 100 * day),
    notAfter: new Date(Date.now() - day),
  }),
  'rpt-wrong-key': { ...tlsData('rpt-wrong-key'), 'tls.key': tlsData('x')['tls.key'] },
  'rpt-garbage': { ...tlsData('rpt-garbage'), 'tls.crt': 'this is not PEM' },
  'rpt-expiring': tlsData('rpt-expiring', { notAfter: new Date(Date.now() + 4 * day) }),
  'rpt-wrong-ca': {
    ...tlsData('rpt-wrong-ca', {
      issuer: forgeCertificate({
        commonName: 'other-ca',
        notBefore: new Date(Date.now() - day),
        notAfter: new Date(Date.now() + 365 * day),
        isCA: true,
      }),
    }),
  },
  'rpt-bad-sans': tlsData('rpt-bad-sans', { dnsNames: ['elsewhere.example.com'] }),
};
/** The issuer each crafted database names (its Certificates name an external one). */
const issuerOf: Record<string, string> = { 'rpt-expiring': 'ghost-issuer' };

async function report(args: string[], file: string) {
  const archive = path.join(work, file);
  const result = await runPlugin(['tls', 'report', '--context', 'admin', '--file', archive, ...args]);
  assert.equal(result.code, ExitCode.ok, result.stderr);
  return { archive, result };
}

describe('tls report', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    const documents = [singlestoreYaml('rpt-healthy', ns, { issuer: 'sdb-issuer' })];
    // The canary Secret value rides in a TLS Secret the report reads (an extra key).
    documents.push(
      ...craftedDatabase('rpt-canary', { ...tlsData('rpt-canary'), 'canary.txt': canaries.secretValue }),
    );
    for (const [name, data] of Object.entries(broken)) {
      documents.push(...craftedDatabase(name, data, issuerOf[name]));
    }
    // A pod of the canary database with a literal env value (never scheduled: no node).
    documents.push(`apiVersion: v1
kind: Pod
metadata:
  name: rpt-canary-aggregator-0
  namespace: ${ns}
  labels: {app.kubernetes.io/name: singlestores.kubedb.com, app.kubernetes.io/instance: rpt-canary}
spec:
  containers:
    - name: singlestore
      image: test
      env: [{name: ROOT_PASSWORD, value: ${canaries.envValue}}, {name: FROM_SECRET, valueFrom: {secretKeyRef: {name: auth, key: password}}}]`);
    kubectlApply(documents.join('\n---\n'));
    const secretJson = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'auth', namespace: ns },
      data: { password: Buffer.from(canaries.lastApplied).toString('base64') },
    });
    kubectl([
      'annotate',
      '--overwrite',
      '-n',
      ns,
      'singlestores.kubedb.com/rpt-canary',
      `kubectl.kubernetes.io/last-applied-configuration=${secretJson}`,
    ]);
    kubectl([
      'annotate',
      '--overwrite',
      '-n',
      ns,
      'pod/rpt-canary-aggregator-0',
      'example.com/unknown=drop-me',
    ]);
    // The limited user's database in demo, as the status tests have it.
    for (const fixture of ['issuer.yaml', 'singlestore-tls.yaml']) {
      kubectlApply(readFileSync(path.join(repoRoot, 'test', 'fixtures', fixture), 'utf8'));
    }
    await certificatesReady(ns, 'rpt-healthy');
  });

  after(() => {
    kubectl(['delete', 'namespace', ns, '--wait=false']);
    rmSync(work, { recursive: true, force: true });
  });

  test('no canary anywhere in the archive, at any verbosity, with and without --redact-names', async () => {
    const needles = [...Object.values(canaries), ...kubeconfigTokens()];
    assert.ok(needles.length >= 4, 'the kubeconfig holds a token');
    for (const [index, args] of [
      [],
      ['-v', '8'],
      ['--redact-names'],
      ['--redact-names', '-v', '8'],
    ].entries()) {
      const { archive } = await report(['-n', ns, ...args], `canary-${index}.tar.gz`);
      assert.deepEqual(leaks(archive, needles), [], `flags: ${args.join(' ')}`);
    }
  });

  test('no canary on stderr or stdout of status and report at -v 6 to 9', async () => {
    const needles = [...Object.values(canaries), ...kubeconfigTokens()];
    for (const verbosity of ['6', '7', '8', '9']) {
      const runs = [
        await runPlugin(['tls', 'status', '-n', ns, '--context', 'admin', '-v', verbosity, '--probe']),
        await runPlugin(['tls', 'status', 'rpt-canary', '-n', ns, '--context', 'admin', '-v', verbosity]),
        (await report(['-n', ns, '-v', verbosity], `verbose-${verbosity}.tar.gz`)).result,
      ];
      for (const [which, result] of runs.entries()) {
        assert.match(
          result.stderr,
          /^GET https:\/\/127\.0\.0\.1:\d+\/apis\/kubedb\.com\/v1alpha2\/namespaces\/report-e2e\/singlestores/m,
        );
        if (Number(verbosity) >= 8) assert.match(result.stderr, /^Response Body: /m, 'bodies are logged');
        assert.deepEqual(
          leaksIn(`${result.stderr}${result.stdout}`, needles),
          [],
          `-v ${verbosity}, run ${which}`,
        );
      }
    }
  });

  test('the archive: index, manifest, status, versions, redacted objects, Secrets without values', async () => {
    const { archive, result } = await report(['-n', ns], 'plain.tar.gz');
    assert.equal(result.stdout, `${archive}\n`);
    assert.match(
      result.stderr,
      /^Collecting the TLS path of Singlestores in namespace "report-e2e" \(with the wire probe\)/,
    );
    const dir = extract(archive);
    const files = filesUnder(dir);
    for (const file of [
      'index.json',
      'index.txt',
      'SHA256SUMS',
      'status.txt',
      'status.json',
      'versions.json',
    ]) {
      assert.ok(files.includes(file), `${file} in ${files.join(', ')}`);
    }
    execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir });
    assert.ok(files.includes(`objects/${ns}/singlestores.kubedb.com/rpt-canary.yaml`) === false);
    for (const kind of [
      'singlestores',
      'certificates',
      'certificaterequests',
      'issuers',
      'petsets',
      'pods',
      'events',
      'secrets',
    ]) {
      assert.ok(
        files.some((file) => file.startsWith(`objects/${ns}/${kind}/`)),
        `objects of ${kind}`,
      );
    }
    const pod = yaml.load(
      readFileSync(path.join(dir, 'objects', ns, 'pods', 'rpt-canary-aggregator-0.yaml'), 'utf8'),
    ) as {
      metadata: { annotations?: Record<string, string>; managedFields?: unknown };
      spec: { containers: { env: Record<string, unknown>[] }[] };
    };
    assert.deepEqual(pod.spec.containers[0]?.env, [
      { name: 'ROOT_PASSWORD' },
      { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'auth', key: 'password' } } },
    ]);
    assert.equal(pod.metadata.annotations?.['example.com/unknown'], undefined);
    assert.equal(pod.metadata.managedFields, undefined);
    const secret = yaml.load(
      readFileSync(path.join(dir, 'objects', ns, 'secrets', 'rpt-canary-server-cert.yaml'), 'utf8'),
    ) as {
      keys: string[];
      data?: unknown;
      certificateFacts: { certificate: { subject: string } };
    };
    assert.deepEqual(secret.keys, ['ca.crt', 'canary.txt', 'tls.crt', 'tls.key']);
    assert.equal(secret.data, undefined);
    assert.match(secret.certificateFacts.certificate.subject, /rpt-canary/);
    const versions = JSON.parse(readFileSync(path.join(dir, 'versions.json'), 'utf8')) as {
      apiServer: { gitVersion: string };
    };
    assert.match(versions.apiServer.gitVersion, /^v1\.\d+/);
    const status = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as StatusReport;
    const healthy = status.databases.find((db) => db.name === 'rpt-healthy');
    assert.equal(healthy?.health, 'OK');
    assert.ok((healthy?.served?.current ?? 0) > 0, 'the healthy pods were probed');
    const index = readFileSync(path.join(dir, 'index.txt'), 'utf8');
    assert.match(index, /Not readable or not present:/);
  });

  test('each broken state: the archive names the same findings as tls status', async () => {
    const problems = (report: StatusReport, name: string) =>
      report.databases.find((db) => db.name === name)?.findings.filter((f) => f.severity !== 'info');
    const liveProblems = async (name: string) => {
      const live = await runPlugin([
        'tls',
        'status',
        name,
        '-n',
        ns,
        '--context',
        'admin',
        '-o',
        'json',
        '--probe=false',
      ]);
      return problems(JSON.parse(live.stdout) as StatusReport, name);
    };
    // cert-manager answers the crafted Certificates seconds after they appear (a Ready condition, a
    // CannotRegenerateKey event that status quotes): an archive and a status read on either side of
    // one of those answers differ, so both are taken again until cert-manager has had its say.
    let archived: StatusReport | undefined;
    let compared: { name: string; archived?: Finding[]; live?: Finding[] }[] = [];
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const { archive } = await report(['-n', ns, '--probe=false'], `findings-${attempt}.tar.gz`);
      archived = JSON.parse(readFileSync(path.join(extract(archive), 'status.json'), 'utf8')) as StatusReport;
      compared = [];
      for (const name of Object.keys(broken)) {
        compared.push({ name, archived: problems(archived, name), live: await liveProblems(name) });
      }
      if (compared.every((entry) => isDeepStrictEqual(entry.archived, entry.live))) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    for (const entry of compared) {
      assert.ok(entry.live?.length, `${entry.name} has a finding`);
      assert.deepEqual(entry.archived, entry.live, entry.name);
    }
    const steps = (name: string) =>
      (archived && problems(archived, name))?.map((f) => `${f.step}: ${f.message}`);
    assert.match(
      steps('rpt-wrong-ca')?.join('\n') ?? '',
      /secret: .*tls.crt is not signed by the CA in ca.crt/,
    );
    assert.match(steps('rpt-bad-sans')?.join('\n') ?? '', /does not cover rpt-bad-sans.report-e2e.svc/);
    assert.match(steps('rpt-expiring')?.join('\n') ?? '', /Issuer "ghost-issuer" does not exist/);
    assert.match(steps('rpt-expiring')?.join('\n') ?? '', /expires in 3 day\(s\)|expires in 4 day\(s\)/);
  });

  test('--redact-names: no namespace or object name of the test, in any file or file name', async () => {
    const { archive } = await report(['-n', ns, '--redact-names'], 'names.tar.gz');
    const names = [
      ns,
      'sdb-issuer',
      'rpt-healthy',
      'rpt-canary',
      'rpt-canary-aggregator-0',
      'auth',
      ...Object.keys(broken),
    ];
    const raw = gunzipSync(readFileSync(archive)).toString('latin1');
    assert.deepEqual(
      names.filter((name) => raw.includes(name)),
      [],
    );
    const dir = extract(archive);
    const status = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as StatusReport;
    assert.equal(status.databases.length, 2 + Object.keys(broken).length);
    assert.ok(
      status.databases.every((db) => /^name-\d{3}$/.test(db.name) && /^namespace-\d{3}$/.test(db.namespace)),
    );
    assert.ok(filesUnder(dir).some((file) => /^objects\/namespace-001\/pods\/name-\d{3}\.yaml$/.test(file)));
  });

  test('what the user may not read is listed, not fatal', async () => {
    const archive = path.join(work, 'limited.tar.gz');
    const result = await runPlugin([
      'tls',
      'report',
      'sdb-tls',
      '-n',
      'demo',
      '--context',
      'limited',
      '--file',
      archive,
    ]);
    assert.equal(result.code, ExitCode.ok, result.stderr);
    assert.match(result.stderr, /Not included: secrets \(see index.txt\)/);
    const index = readFileSync(path.join(extract(archive), 'index.txt'), 'utf8');
    assert.match(
      index,
      /secrets: forbidden \(cannot list secrets in namespace "demo": forbidden for user "alice"\)/,
    );
  });

  test('a user who may not list Singlestores: the archive says so, the exit code too', async () => {
    const archive = path.join(work, 'forbidden.tar.gz');
    const result = await runPlugin([
      'tls',
      'report',
      '-A',
      '--context',
      'limited',
      '--probe=false',
      '--file',
      archive,
    ]);
    assert.equal(result.code, ExitCode.runtime, result.stderr);
    assert.match(
      result.stderr,
      /^Status: not readable: cannot list singlestores\.kubedb\.com in all namespaces: forbidden for user "alice"$/m,
    );
    assert.doesNotMatch(result.stderr, /Status: OK/);
    const dir = extract(archive);
    assert.match(
      readFileSync(path.join(dir, 'status.txt'), 'utf8'),
      /^tls status could not run: cannot list/,
    );
    assert.match(
      readFileSync(path.join(dir, 'index.txt'), 'utf8'),
      /^Context: limited: not readable: cannot list singlestores.* \(exit 3\)$/m,
    );
  });

  test('the default file name: the context made safe, and the time', async () => {
    const result = await runPlugin(['tls', 'report', '-n', ns, '--context', 'admin', '--probe=false'], {
      env: { PWD: work },
    });
    assert.equal(result.code, ExitCode.ok, result.stderr);
    assert.match(result.stdout, /^singlestore-tls-report-admin-\d{8}T\d{6}Z\.tar\.gz\n$/);
    rmSync(result.stdout.trim(), { force: true });
  });
});
