/**
 * The CA behind the certificates, end to end with the real cert-manager: replace a CA Issuer's (and a
 * CA ClusterIssuer's) Secret with a new CA; `tls status -A` marks exactly the databases it issued
 * for CRITICAL with the fix; `tls rotate --issuer X -A` re-issues exactly those (every Certificate's
 * status.revision checked); afterwards they are OK. A CA renewed with the same key and an issuer with
 * an intermediate CA stay OK; without the CA role the check says "not checked" and the exit is the same.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Certificate, Secret } from '../../src/kubedb/types.ts';
import type { DatabaseReport, StatusReport } from '../../src/tls/report.ts';
import { type Forged, forgeCertificate } from '../support/x509-forge.ts';
import {
  adminClient,
  certificatesReady,
  eventually,
  kubectl,
  kubectlApply,
  namespaceWithIssuer,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const ns = 'ca-e2e';
const other = 'ca-e2e-other';
const client = adminClient();
const day = 86_400_000;

function newCa(commonName: string, options: { keyPem?: string; issuer?: Forged } = {}): Forged {
  return forgeCertificate({
    commonName,
    notBefore: new Date(Date.now() - day),
    notAfter: new Date(Date.now() + 3650 * day),
    isCA: true,
    ...options,
  });
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

function caSecretYaml(namespace: string, name: string, ca: Forged, root?: Forged): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${namespace}}
type: kubernetes.io/tls
data: {tls.crt: ${b64(ca.pem + (root?.pem ?? ''))}, tls.key: ${b64(ca.keyPem)}, ca.crt: ${b64((root ?? ca).pem)}}`;
}

/** Replace a CA Secret's data, as an operator rotating the CA would, and wait for the issuer to stay Ready. */
async function replaceCa(namespace: string, name: string, ca: Forged): Promise<void> {
  kubectlApply(caSecretYaml(namespace, name, ca));
  await new Promise((resolve) => setTimeout(resolve, 2000));
}

const status = (args: string[]) =>
  runPlugin(['tls', 'status', '--probe=false', ...args], { timeoutMs: 120_000 });

async function statusAll(): Promise<Map<string, DatabaseReport>> {
  const result = await status(['-A', '-o', 'json']);
  const report = JSON.parse(result.stdout) as StatusReport;
  return new Map(report.databases.map((db) => [`${db.namespace}/${db.name}`, db]));
}

async function revisions(): Promise<Map<string, number>> {
  const list = await client.list<Certificate>(Resources.certificate, {});
  return new Map(
    list.items
      .filter((c) => [ns, other].includes(c.metadata.namespace ?? ''))
      .map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c.status?.revision ?? 0]),
  );
}

/** rotate --issuer the way the tests need it: by cert-manager renewal, waiting, without the wire probe. */
const rotateIssuer = (args: string[]) =>
  runPlugin(
    [
      'tls',
      'rotate',
      '--issuer',
      ...args,
      '--probe=false',
      '--method',
      'cert-manager',
      '--restart-with',
      'annotation',
      '--wait',
    ],
    { timeoutMs: 300_000 },
  );

/** Other suites' databases may share the cluster (and an Issuer's name): -l keeps the rotations to ours. */
const suite = { suite: 'ca-e2e' };

const databases = [`${ns}/a`, `${ns}/b`, `${ns}/d`, `${other}/c`, `${other}/e`];

describe('the CA behind the certificates', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    await namespaceWithIssuer(other);
    const clusterCa = newCa('cluster-ca');
    const root = newCa('root-ca');
    const intermediate = newCa('intermediate-ca', { issuer: root });
    kubectlApply(
      [
        caSecretYaml('cert-manager', 'e2e-cluster-ca', clusterCa),
        'apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: e2e-ca}\nspec: {ca: {secretName: e2e-cluster-ca}}',
        caSecretYaml(other, 'intermediate', intermediate, root),
        `apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: intermediate, namespace: ${other}}\nspec: {ca: {secretName: intermediate}}`,
        // The CA Secrets are replaced by hand below: cert-manager must not re-issue them meanwhile.
        singlestoreYaml('a', ns, { issuer: 'sdb-issuer', labels: suite }),
        singlestoreYaml('b', ns, { issuer: 'sdb-issuer', labels: suite }),
        singlestoreYaml('d', ns, { issuer: 'e2e-ca', labels: suite }).replace(
          'kind: Issuer\n',
          'kind: ClusterIssuer\n',
        ),
        singlestoreYaml('c', other, { issuer: 'sdb-issuer', labels: suite }),
        singlestoreYaml('e', other, { issuer: 'intermediate', labels: suite }),
        `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: status-only, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-singlestore-status}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: status-only}]`,
      ].join('\n---\n'),
    );
    kubectl(['delete', 'certificate', 'sdb-ca', '-n', ns]);
    kubectl(['delete', 'certificate', 'sdb-ca', '-n', other]);
    await Promise.all(databases.map((key) => certificatesReady(...(key.split('/') as [string, string]))));
  });

  test('healthy: every CA checked and OK; without the CA role "not checked", same exit', async () => {
    // certificatesReady waits for the pods; the PetSets' status may follow a moment later.
    await eventually('all OK', async () => {
      const all = await statusAll();
      return databases.every((key) => all.get(key)?.health === 'OK');
    });
    const reports = await statusAll();
    for (const key of databases) {
      const db = reports.get(key) as DatabaseReport;
      assert.equal(db.health, 'OK', `${key}: ${JSON.stringify(db.findings)}`);
      assert.equal(db.tls.issuer?.ca?.checked, true, key);
    }
    assert.equal(reports.get(`${ns}/d`)?.tls.issuer?.ca?.secret, 'cert-manager/e2e-cluster-ca');
    assert.equal(reports.get(`${other}/e`)?.tls.issuer?.ca?.intermediate, true);
    const admin = await status(['a', '-n', ns]);
    const limited = await status(['a', '-n', ns, '--as', 'status-only']);
    assert.equal(limited.code, admin.code, limited.stdout + limited.stderr);
    assert.equal(limited.code, ExitCode.ok);
    assert.match(
      limited.stdout,
      /INFO \[issuer\] Issuer ca-e2e\/sdb-issuer: CA not checked: forbidden \(see the ca-check role\)/,
    );
  });

  test('a CA renewed with the same key stays OK', async () => {
    const current = await client.get<Secret>(Resources.secret, other, 'sdb-ca');
    const keyPem = Buffer.from(current.data?.['tls.key'] ?? '', 'base64').toString('utf8');
    await replaceCa(other, 'sdb-ca', newCa('sdb-ca', { keyPem }));
    const c = (await statusAll()).get(`${other}/c`) as DatabaseReport;
    assert.equal(c.health, 'OK', JSON.stringify(c.findings));
    assert.equal(c.certificates[0]?.secret.certificate?.signedByIssuerCa, 'signed');
  });

  test('Issuer CA replaced: exactly its databases CRITICAL, rotate --issuer -A re-issues exactly those', async () => {
    await replaceCa(ns, 'sdb-ca', newCa('sdb-ca-2'));
    const reports = await statusAll();
    for (const key of databases) {
      const critical = key === `${ns}/a` || key === `${ns}/b`;
      assert.equal(reports.get(key)?.health, critical ? 'CRITICAL' : 'OK', key);
    }
    const finding = reports.get(`${ns}/a`)?.findings[0];
    assert.match(finding?.message ?? '', /issued by a CA that Issuer sdb-issuer no longer uses/);
    assert.match(finding?.hint ?? '', /^kubectl singlestore tls rotate --issuer sdb-issuer -n ca-e2e /);
    // The first screen of tls status NAME: the verdict, then the numbered finding and its fix.
    const detail = await status(['a', '-n', ns]);
    assert.equal(detail.code, ExitCode.findings);
    const lines = detail.stdout.split('\n');
    assert.match(lines[0] ?? '', /^Singlestore ca-e2e\/a: CRITICAL/);
    assert.equal(lines[2], 'Findings:');
    assert.match(lines[3] ?? '', /^ {2}1\. CRITICAL \[issuer\] /);
    assert.match(lines[4] ?? '', /^ {5}fix: kubectl singlestore tls rotate --issuer sdb-issuer/);

    const before = await revisions();
    const rotated = await rotateIssuer(['sdb-issuer', '-A', '-l', 'suite=ca-e2e']);
    assert.equal(rotated.code, ExitCode.ok, rotated.stdout + rotated.stderr);
    assert.match(
      rotated.stderr,
      /Issuer sdb-issuer: 2 of 3 database\(s\) hold certificates its current CA did not sign/,
    );
    const after = await revisions();
    for (const [certificate, revision] of before) {
      const reissued = certificate.startsWith(`${ns}/a-`) || certificate.startsWith(`${ns}/b-`);
      assert.equal(after.get(certificate), reissued ? revision + 1 : revision, certificate);
    }
    const healed = await statusAll();
    for (const key of databases) assert.equal(healed.get(key)?.health, 'OK', key);
    // Resumable: nothing left on the old CA, nothing rotated again.
    const again = await runPlugin(
      ['tls', 'rotate', '--issuer', 'sdb-issuer', '-A', '-l', 'suite=ca-e2e', '--probe=false'],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(again.code, ExitCode.ok, again.stderr);
    assert.match(again.stderr, /0 of 3 database\(s\)/);
  });

  test('ClusterIssuer CA replaced: its database CRITICAL, rotate --issuer --cluster-issuer -A heals exactly it', async () => {
    await replaceCa('cert-manager', 'e2e-cluster-ca', newCa('cluster-ca-2'));
    await eventually('d critical', async () => (await statusAll()).get(`${ns}/d`)?.health === 'CRITICAL');
    const reports = await statusAll();
    for (const key of databases)
      assert.equal(reports.get(key)?.health, key === `${ns}/d` ? 'CRITICAL' : 'OK', key);
    assert.match(
      reports.get(`${ns}/d`)?.findings[0]?.hint ?? '',
      /tls rotate --issuer e2e-ca --cluster-issuer -A/,
    );
    const before = await revisions();
    const rotated = await rotateIssuer([
      'e2e-ca',
      '--cluster-issuer',
      '-A',
      '-l',
      'suite=ca-e2e',
      '-o',
      'json',
    ]);
    assert.equal(rotated.code, ExitCode.ok, rotated.stdout + rotated.stderr);
    const results = (JSON.parse(rotated.stdout) as { results: { namespace: string; name: string }[] })
      .results;
    assert.deepEqual(
      results.map((r) => `${r.namespace}/${r.name}`),
      [`${ns}/d`],
    );
    const after = await revisions();
    for (const [certificate, revision] of before) {
      assert.equal(
        after.get(certificate),
        certificate.startsWith(`${ns}/d-`) ? revision + 1 : revision,
        certificate,
      );
    }
    const healed = await statusAll();
    for (const key of databases) assert.equal(healed.get(key)?.health, 'OK', key);
  });

  test('tls enable preflight: a CA expiring within --warn-within, or before the certificates would, is a warning', async () => {
    const soon = (days: number) =>
      forgeCertificate({
        commonName: `short-${days}`,
        notBefore: new Date(Date.now() - day),
        notAfter: new Date(Date.now() + days * day),
        isCA: true,
      });
    kubectlApply(
      [
        caSecretYaml(other, 'ca-10d', soon(10)),
        caSecretYaml(other, 'ca-60d', soon(60)),
        `apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: ca-10d, namespace: ${other}}\nspec: {ca: {secretName: ca-10d}}`,
        `apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: ca-60d, namespace: ${other}}\nspec: {ca: {secretName: ca-60d}}`,
      ].join('\n---\n'),
    );
    const enable = (issuer: string, extra: string[] = []) =>
      runPlugin([
        'tls',
        'enable',
        'c',
        '-n',
        other,
        '--issuer',
        issuer,
        '--dry-run=client',
        '--overwrite',
        ...extra,
      ]);
    await eventually(
      'issuers Ready',
      async () => !/not Ready|does not exist/.test((await enable('ca-10d')).stderr),
    );
    const within = await enable('ca-10d');
    assert.match(within.stderr, /WARNING: the CA of Issuer "ca-10d" .* expires at .*, within --warn-within/);
    const before = await enable('ca-60d');
    assert.match(
      before.stderr,
      /WARNING: the CA of Issuer "ca-60d" .* before certificates issued now for 2160h/,
    );
    assert.doesNotMatch((await enable('ca-60d', ['--duration', '720h'])).stderr, /WARNING/);
  });
});
