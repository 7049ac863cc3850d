/**
 * `tls status` end to end: the compiled binary against the real control plane and cert-manager.
 * Databases that cert-manager can serve go through the KubeDB stand-in; the broken Secrets that
 * cert-manager would never write are crafted with forged certificates, their Certificates pointing
 * at an external issuer group that no controller here signs for, so nothing repairs them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import { databaseLabels, serverDnsNames } from '../../src/kubedb/naming.ts';
import type { Certificate, Secret } from '../../src/kubedb/types.ts';
import type { StatusReport } from '../../src/tls/report.ts';
import { forgeCertificate } from '../support/x509-forge.ts';
import {
  adminClient,
  certificatesReady,
  eventually,
  kubectlApply,
  namespaceWithIssuer,
  repoRoot,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const ns = 'status-e2e';
const day = 86_400_000;
const client = adminClient();

function singlestore(
  name: string,
  options: { issuer?: string | null; annotations?: Record<string, string> } = {},
): string {
  const issuer = options.issuer === undefined ? 'sdb-issuer' : options.issuer;
  return singlestoreYaml(name, ns, {
    ...(issuer ? { issuer } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  });
}

async function status(args: string[], options: { context?: string } = {}) {
  const result = await runPlugin([
    'tls',
    'status',
    '-n',
    ns,
    '--context',
    options.context ?? 'admin',
    ...args,
  ]);
  return result;
}

async function report(name: string): Promise<StatusReport> {
  const result = await status([name, '-o', 'json']);
  assert.ok(result.code === 0 || result.code === 1, result.stderr);
  return JSON.parse(result.stdout) as StatusReport;
}

/**
 * A database whose Secrets the test writes itself: the Singlestore is ignored by the stand-in, its
 * Certificates name an issuer group no controller signs for, and its PetSets mount the Secrets.
 */
async function craftedDatabase(
  name: string,
  secrets: Record<'server' | 'client', Record<string, string> | undefined>,
) {
  const labels = Object.entries(databaseLabels(name))
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const documents = [
    singlestore(name, { annotations: { 'standin.kubectl-singlestore.test/ignore': 'true' } }),
  ];
  for (const alias of ['server', 'client'] as const) {
    documents.push(`apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: ${name}-${alias}-cert, namespace: ${ns}, labels: {${labels}}}
spec:
  secretName: ${name}-${alias}-cert
  commonName: ${alias === 'server' ? name : 'root'}
  issuerRef: {group: external.example.invalid, kind: ExternalIssuer, name: nobody}`);
    const data = secrets[alias];
    if (data) {
      const encoded = Object.entries(data).map(
        ([key, value]) => `  ${key}: ${Buffer.from(value).toString('base64')}`,
      );
      documents.push(
        `apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: ${name}-${alias}-cert, namespace: ${ns}}\ndata:\n${encoded.join('\n')}`,
      );
    }
  }
  for (const role of ['aggregator', 'leaf']) {
    documents.push(`apiVersion: apps.k8s.appscode.com/v1
kind: PetSet
metadata: {name: ${name}-${role}, namespace: ${ns}, labels: {${labels}}}
spec:
  replicas: 1
  serviceName: ${name}-pods
  selector: {matchLabels: {${labels}, role: ${role}}}
  template:
    metadata: {labels: {${labels}, role: ${role}}}
    spec:
      containers: [{name: singlestore, image: test}]
      volumes: [{name: tls-volume, projected: {sources: [{secret: {name: ${name}-server-cert}}, {secret: {name: ${name}-client-cert}}]}}]`);
  }
  kubectlApply(documents.join('\n---\n'));
}

const ca = forgeCertificate({
  commonName: 'crafted-ca',
  notBefore: new Date(Date.now() - 10 * day),
  notAfter: new Date(Date.now() + 3650 * day),
  isCA: true,
});

function tlsData(name: string, overrides: Partial<Parameters<typeof forgeCertificate>[0]> = {}, signer = ca) {
  const leaf = forgeCertificate({
    commonName: name,
    notBefore: new Date(Date.now() - day),
    notAfter: new Date(Date.now() + 90 * day),
    dnsNames: serverDnsNames(name, ns),
    issuer: signer,
    ...overrides,
  });
  return { 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': ca.pem };
}

function firstFinding(result: StatusReport, name: string) {
  const db = result.databases.find((d) => d.name === name);
  return db?.findings.find((finding) => finding.severity !== 'info');
}

describe('tls status', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(
      [
        singlestore('healthy'),
        singlestore('plain', { issuer: null }),
        singlestore('no-issuer', { issuer: 'ghost-issuer' }),
        `apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: broken-issuer, namespace: ${ns}}\nspec: {ca: {secretName: no-such-ca}}`,
        singlestore('bad-issuer', { issuer: 'broken-issuer' }),
      ].join('\n---\n'),
    );
    const good = tlsData('x');
    await craftedDatabase('no-secret', { server: undefined, client: good });
    await craftedDatabase('garbage', {
      server: { 'tls.crt': 'this is not PEM', 'tls.key': good['tls.key'], 'ca.crt': ca.pem },
      client: good,
    });
    await craftedDatabase('expired', {
      server: tlsData('expired', {
        notBefore: new Date(Date.now() - 100 * day),
        notAfter: new Date(Date.now() - day),
      }),
      client: good,
    });
    await craftedDatabase('expiring', {
      server: tlsData('expiring', { notAfter: new Date(Date.now() + 5 * day) }),
      client: good,
    });
    const otherCa = forgeCertificate({
      commonName: 'crafted-ca',
      notBefore: new Date(Date.now() - day),
      notAfter: new Date(Date.now() + 365 * day),
      isCA: true,
    });
    await craftedDatabase('wrong-ca', { server: tlsData('wrong-ca', {}, otherCa), client: good });
    await craftedDatabase('wrong-key', {
      server: { ...tlsData('wrong-key'), 'tls.key': tlsData('x')['tls.key'] },
      client: good,
    });
    await craftedDatabase('bad-sans', {
      server: tlsData('bad-sans', { dnsNames: ['db.example.com'] }),
      client: good,
    });
    // A second namespace, for -A and the limited user (who may read only in demo).
    kubectlApply(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'issuer.yaml'), 'utf8'));
    kubectlApply(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'singlestore-tls.yaml'), 'utf8'));
    await certificatesReady(ns, 'healthy');
  });

  test('a healthy database: exit 0, every step checks out, in depth', async () => {
    const result = await status(['healthy']);
    assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    assert.match(result.stdout, /^Singlestore status-e2e\/healthy: OK$/m);
    assert.match(result.stdout, /Chain: {5}signed by ca.crt; signed by the issuer's current CA; key matches/);
    assert.match(result.stdout, /Findings:\n {2}none: every step of the TLS path checks out/);
  });

  test('TLS not enabled: fine by default, critical with --require-tls', async () => {
    const result = await status(['plain']);
    assert.equal(result.code, ExitCode.ok);
    assert.match(result.stdout, /TLS: {5}disabled/);
    assert.equal((await status(['plain', '--require-tls'])).code, ExitCode.findings);
  });

  test('issuer missing, and issuer not Ready with the CertificateRequest message', async () => {
    const missing = await report('no-issuer');
    assert.equal(missing.summary.health, 'CRITICAL');
    assert.match(firstFinding(missing, 'no-issuer')?.message ?? '', /Issuer "ghost-issuer" does not exist/);

    const broken = await eventually('broken issuer seen with its request', async () => {
      const result = await report('bad-issuer');
      const server = result.databases[0]?.certificates.find((c) => c.alias === 'server');
      return server?.latestRequest?.message ? result : undefined;
    });
    const db = broken.databases[0];
    assert.equal(db?.findings[0]?.step, 'issuer');
    assert.match(db?.findings[0]?.message ?? '', /Issuer is not Ready/);
    const certificateFinding = db?.findings.find((f) => f.step === 'certificate');
    assert.match(certificateFinding?.message ?? '', /latest CertificateRequest bad-issuer-server-cert-\w+: /);
    const detail = await status(['bad-issuer']);
    assert.equal(detail.code, ExitCode.findings);
    assert.match(detail.stdout, /Request bad-issuer-server-cert-\w+: /);
  });

  test('broken Secrets: missing, garbage, expired, expiring, wrong CA, wrong key, SANs', async () => {
    // cert-manager also reports these Certificates not Ready (their Secrets are not its own): the
    // finding at the Secret step is the one that says what is really wrong.
    const cases: [string, 'critical' | 'warning', RegExp][] = [
      ['no-secret', 'critical', /Secret "no-secret-server-cert" does not exist/],
      ['garbage', 'critical', /tls.crt holds no PEM certificate/],
      ['expired', 'critical', /the certificate expired 1 day\(s\) ago/],
      ['expiring', 'warning', /the certificate expires in 4 day\(s\)/],
      ['wrong-ca', 'critical', /tls.crt is not signed by the CA in ca.crt/],
      ['wrong-key', 'critical', /tls.key does not belong to the certificate in tls.crt/],
      ['bad-sans', 'critical', /the server certificate does not cover bad-sans.status-e2e.svc/],
    ];
    for (const [name, severity, message] of cases) {
      const result = await report(name);
      const db = result.databases[0];
      assert.equal(db?.health, 'CRITICAL', name);
      const secretFinding = db?.findings.find((f) => f.step === 'secret');
      assert.equal(secretFinding?.severity, severity, `${name}: ${JSON.stringify(db?.findings)}`);
      assert.match(secretFinding?.message ?? '', message, name);
    }
    const noSecret = await report('no-secret');
    assert.match(JSON.stringify(noSecret.databases[0]?.findings), /rollout not finished/);
  });

  test('a renewal without a restart leaves pods older than the certificate', async () => {
    const before = await client.get<Certificate>(Resources.certificate, ns, 'healthy-server-cert');
    await client.patch(
      Resources.certificate,
      { namespace: ns, name: 'healthy-server-cert' },
      {
        status: {
          conditions: [
            ...(before.status?.conditions ?? []),
            { type: 'Issuing', status: 'True', reason: 'ManuallyTriggered', message: 'test' },
          ],
        },
      },
      { subresource: 'status' },
    );
    const after = await eventually('re-issued', async () => {
      const result = await report('healthy');
      const certificate = result.databases[0]?.certificates.find((c) => c.alias === 'server');
      return (certificate?.revision ?? 0) > (before.status?.revision ?? 0) && certificate?.ready
        ? result
        : undefined;
    });
    // The probe sees it on the wire: every pod still serves the certificate it started with.
    const onTheWire = after.databases[0]?.findings.find((f) => f.step === 'pods');
    assert.equal(onTheWire?.severity, 'warning');
    assert.match(onTheWire?.message ?? '', /serves? serial \w+ .*not the Secret's \w+: seen on the wire/);
    assert.match(onTheWire?.hint ?? '', /tls rotate healthy -n status-e2e --restart-only --stale-only$/);
    // Without the probe, the start times are the evidence.
    const guessed = await status(['healthy', '-o', 'json', '--probe=false']);
    const finding = (JSON.parse(guessed.stdout) as StatusReport).databases[0]?.findings.find(
      (f) => f.step === 'pods',
    );
    assert.equal(finding?.severity, 'warning');
    assert.match(finding?.message ?? '', /started before the current certificate was issued/);
    assert.match(finding?.hint ?? '', /tls rotate healthy -n status-e2e --restart-only$/);
  });

  test('the table: one row per database, exit 1 when any has a problem', async () => {
    const result = await status([]);
    assert.equal(result.code, ExitCode.findings);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME +TLS +ISSUER +CERTS +EXPIRES +ROLLOUT +SERVED +STATUS +FINDING$/);
    const row = (name: string) => lines.find((line) => line.startsWith(`${name} `)) ?? '';
    assert.match(row('plain'), /^plain +disabled +- +- +- +- +- +OK +TLS is not enabled/);
    assert.match(
      row('no-issuer'),
      /ghost-issuer \(missing\) .* CRITICAL +Issuer "ghost-issuer" does not exist/,
    );
    assert.match(row('expiring'), / 4d +/);
    const wide = await status(['-o', 'wide']);
    assert.match(wide.stdout.split('\n')[0] ?? '', /PHASE +PODS +STALE-PODS +LAST-OPS/);
  });

  test('-A covers every namespace with a constant number of requests', async () => {
    const one = await runPlugin(['tls', 'status', '-A', '-o', 'json', '-v', '6']);
    const all = JSON.parse(one.stdout) as StatusReport;
    const namespaces = new Set(all.databases.map((db) => db.namespace));
    assert.ok(namespaces.has(ns) && namespaces.size >= 2, [...namespaces].join(','));
    // One GET per CA Secret of the CA issuers in use (the CA check), whatever the number of databases;
    // other files add issuers of their own meanwhile, so those reads are counted apart.
    const caRead = (line: string) => /^GET https:\S+\/secrets\/[^/?\s]+ /.test(line);
    const requests = (stderr: string) =>
      stderr.split('\n').filter((line) => /^(GET|POST|PATCH) https:/.test(line) && !caRead(line)).length;
    const before = requests(one.stderr);
    assert.ok(before <= 12, `${before} requests besides the CA Secrets`);
    kubectlApply([1, 2, 3].map((n) => singlestore(`extra-${n}`)).join('\n---\n'));
    await certificatesReady(ns, 'extra-3');
    const again = await runPlugin(['tls', 'status', '-A', '-o', 'json', '-v', '6']);
    assert.equal(requests(again.stderr), before);
    // Counted in this file's namespace: other files create databases of their own meanwhile.
    const here = (report: StatusReport) => report.databases.filter((db) => db.namespace === ns).length;
    assert.equal(here(JSON.parse(again.stdout) as StatusReport), here(all) + 3);
  });

  test('the limited user: forbidden sections say "not checked", the rest still comes out', async () => {
    const result = await runPlugin(['tls', 'status', 'sdb-tls', '--context', 'limited']);
    assert.equal(result.code, ExitCode.findings, result.stderr);
    assert.match(result.stdout, /Secret sdb-tls-server-cert: not checked: forbidden/);
    assert.match(result.stdout, /Secrets not checked: forbidden/);
    assert.match(result.stdout, /server: Certificate sdb-tls-server-cert, /);
    const everywhere = await runPlugin(['tls', 'status', '-A', '--context', 'limited']);
    assert.equal(everywhere.code, ExitCode.runtime);
    assert.equal(
      everywhere.stderr,
      'error: cannot list singlestores.kubedb.com in all namespaces: forbidden for user "alice"\n',
    );
  });

  test('the JSON report follows its published schema', async () => {
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'src', 'tls', 'report.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false, formats: { 'date-time': true } }).compile(
      schema,
    );
    const result = await runPlugin(['tls', 'status', '-A', '-o', 'json']);
    const parsed = JSON.parse(result.stdout) as StatusReport;
    assert.ok(validate(parsed), JSON.stringify(validate.errors));
    assert.ok(parsed.databases.length >= 10);
    const yaml = await runPlugin(['tls', 'status', 'healthy', '-n', ns, '-o', 'yaml']);
    assert.match(yaml.stdout, /^apiVersion: singlestore\.tls\.kubedb\.com\/v1$/m);
  });

  test('bad input: clear usage errors, nothing sent', async () => {
    const cases: [string[], RegExp][] = [
      [['tls', 'status', 'Bad_Name'], /invalid Singlestore name "Bad_Name"/],
      [['tls', 'status', 'x', '-A'], /a name cannot be combined with --all-namespaces/],
      [['tls', 'status', 'x', '-l', 'a=b'], /a name cannot be combined with --selector/],
      [['tls', 'status', '--warn-within', 'soon'], /--warn-within: invalid duration "soon"/],
      [['tls', 'status', '-o', 'xml'], /invalid argument "xml" for "-o, --output" flag: must be one of /],
      [['tls', 'status', 'a', 'b'], /unexpected argument "b"/],
    ];
    for (const [args, message] of cases) {
      const result = await runPlugin([...args, '-v', '6']);
      assert.equal(result.code, ExitCode.usage, args.join(' '));
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /^(GET|POST) /m, 'no request was sent');
    }
    const missing = await runPlugin(['tls', 'status', 'nope', '-n', ns]);
    assert.equal(missing.code, ExitCode.runtime);
    assert.equal(missing.stderr, `error: singlestores.kubedb.com "nope" not found in namespace "${ns}"\n`);
  });

  test('no private key material in any output format at the highest verbosity', async () => {
    const keys = (
      await client.list<Secret>(Resources.secret, { namespace: ns, fieldSelector: 'type=kubernetes.io/tls' })
    ).items
      .map((secret) => Buffer.from(secret.data?.['tls.key'] ?? '', 'base64').toString())
      .filter(Boolean);
    assert.ok(keys.length > 5);
    for (const output of ['wide', 'json', 'yaml']) {
      const result = await runPlugin(['tls', 'status', '-A', '-o', output, '-v', '9']);
      const all = result.stdout + result.stderr;
      assert.doesNotMatch(all, /PRIVATE KEY/);
      for (const key of keys) {
        const body = key.split('\n').slice(1, -2).join('');
        assert.ok(!all.includes(body.slice(0, 40)), 'key material leaked');
      }
    }
  });
});
