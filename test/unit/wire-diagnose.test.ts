/**
 * The wire probe's verdicts in the pure diagnosis: a healthy snapshot plus what each pod was seen to
 * serve, broken one way at a time. The facts on the wire win over start times.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type DiagnoseOptions, diagnose } from '../../src/tls/diagnose.ts';
import type { Snapshot } from '../../src/tls/gather.ts';
import type { PodProbe } from '../../src/tls/probe.ts';
import { renderers } from '../../src/tls/render.ts';
import type { DatabaseReport, StatusReport } from '../../src/tls/report.ts';
import { certificateFacts, checkCa, inspectTlsData } from '../../src/tls/x509.ts';
import { ca, day, healthySnapshot, leaf, now } from '../support/snapshot.ts';
import { forgeCertificate } from '../support/x509-forge.ts';

const options: DiagnoseOptions = {
  now,
  warnWithinMs: 30 * day,
  requireTls: false,
  commandName: 'kubectl singlestore',
};
const pods = ['sdb-aggregator-0', 'sdb-leaf-0', 'sdb-leaf-1'];

function served(pem: string, caPem = ca.pem): PodProbe['served'] {
  const leafCert = new X509Certificate(pem);
  return { ...certificateFacts(leafCert, 1), signedBySecretCa: checkCa(leafCert, [], caPem) };
}

function tlsProbe(pod: string, pem: string, extra: Partial<PodProbe> = {}): PodProbe {
  return {
    namespace: 'demo',
    pod,
    result: 'tls',
    served: served(pem),
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    legacyTls: 'refused',
    clientCertificate: { requested: true, presented: true },
    elapsedMs: 12,
    ...extra,
  };
}

/** A healthy snapshot whose server Secret holds a leaf we keep, and the probe results built from it. */
function withWire(build: (currentPem: string, snapshot: Snapshot) => PodProbe[]): DatabaseReport {
  const snapshot = healthySnapshot();
  const server = leaf('server');
  const secrets = (snapshot.secrets as { items: { name: string; facts: unknown }[] }).items;
  const secret = secrets.find((item) => item.name === 'sdb-server-cert');
  if (secret)
    secret.facts = inspectTlsData({ 'tls.crt': server.pem, 'tls.key': server.keyPem, 'ca.crt': ca.pem });
  snapshot.wire = build(server.pem, snapshot);
  return diagnose(snapshot, options).databases[0] as DatabaseReport;
}

/** Render the one-database report in a format. */
function rendered(report: DatabaseReport, format: 'table' | 'detail' | 'json'): string {
  return renderers[format]({ ...diagnose(healthySnapshot(), options), databases: [report] });
}

/** Make the first pod look started long before now. */
function startedLongAgo(snapshot: Snapshot, days: number): void {
  const pod = (
    snapshot.pods as {
      items: { status: { containerStatuses: { state: { running: { startedAt: string } } }[] } }[];
    }
  ).items[0];
  const container = pod?.status.containerStatuses[0];
  if (container) container.state.running.startedAt = new Date(now.getTime() - days * day).toISOString();
}

test('every pod serves the Secret certificate: OK, 3/3 current, facts in the report', () => {
  const report = withWire((pem) => pods.map((pod) => tlsProbe(pod, pem)));
  assert.equal(report.health, 'OK', JSON.stringify(report.findings));
  assert.deepEqual(report.served, { pods: 3, current: 3, stale: 0, noTls: 0, failed: 0, notProbed: 0 });
  assert.equal(report.petSets[0]?.pods?.[0]?.served, 'current');
  assert.equal(
    report.petSets[0]?.pods?.[0]?.probe?.served?.serialNumber,
    report.certificates[0]?.secret.certificate?.serialNumber,
  );
  const table = rendered(report, 'table');
  assert.match(table.split('\n')[0] ?? '', /ROLLOUT +SERVED +STATUS/);
  assert.match(table, /3\/3 current/);
  assert.match(rendered(report, 'detail'), /sdb-leaf-1: CURRENT serial [0-9a-f]+, notAfter .*TLSv1\.3/);
});

test('a pod serving an older certificate is STALE, seen on the wire, with the --stale-only hint', () => {
  const old = leaf('server', { notBefore: new Date(now.getTime() - 100 * day) });
  const report = withWire((pem) => [
    tlsProbe(pods[0] as string, old.pem),
    tlsProbe('sdb-leaf-0', pem),
    tlsProbe('sdb-leaf-1', pem),
  ]);
  assert.equal(report.health, 'WARNING');
  assert.deepEqual(report.petSets[0]?.stalePods, ['sdb-aggregator-0']);
  const finding = report.findings.find((f) => f.step === 'pods');
  assert.match(
    finding?.message ?? '',
    /^sdb-aggregator-0 serves serial [0-9a-f]+ \(notAfter .*\), not the Secret's [0-9a-f]+: seen on the wire$/,
  );
  assert.equal(finding?.hint, 'kubectl singlestore tls rotate sdb -n demo --restart-only --stale-only');
  assert.equal(report.served?.stale, 1);
});

test('the wire wins over start times: a pod started long ago but serving the current certificate is fine', () => {
  const report = withWire((pem, snapshot) => {
    const pod = (
      snapshot.pods as {
        items: { status: { containerStatuses: { state: { running: { startedAt: string } } }[] } }[];
      }
    ).items[0];
    const container = pod?.status.containerStatuses[0];
    if (container) container.state.running.startedAt = new Date(now.getTime() - 300 * day).toISOString();
    return pods.map((name) => tlsProbe(name, pem));
  });
  assert.equal(report.health, 'OK', JSON.stringify(report.findings));
});

test('a stale certificate that has expired, or does not chain to ca.crt, is critical', () => {
  const expired = leaf('server', {
    notBefore: new Date(now.getTime() - 100 * day),
    notAfter: new Date(now.getTime() - day),
  });
  const report = withWire((pem) => [
    tlsProbe(pods[0] as string, expired.pem),
    tlsProbe('sdb-leaf-0', pem),
    tlsProbe('sdb-leaf-1', pem),
  ]);
  assert.equal(report.health, 'CRITICAL');
  assert.match(
    report.findings[0]?.message ?? '',
    /sdb-aggregator-0 serves serial \w+ \(notAfter .*, EXPIRED\)/,
  );
  assert.match(rendered(report, 'table'), /1\/3 stale/);
  const otherCa = forgeCertificate({
    commonName: 'other-ca',
    isCA: true,
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 100 * day),
  });
  const foreign = forgeCertificate({
    commonName: 'sdb',
    issuer: otherCa,
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 50 * day),
  });
  const unchained = withWire((pem) => [
    tlsProbe(pods[0] as string, foreign.pem),
    tlsProbe('sdb-leaf-0', pem),
    tlsProbe('sdb-leaf-1', pem),
  ]);
  assert.equal(unchained.health, 'CRITICAL');
  assert.ok(unchained.findings.some((f) => /does not chain to the Secret's ca.crt/.test(f.message)));
});

test('each failure on the wire is its own finding: no TLS, refused, handshake failure, server error, timeout', () => {
  const cases: [PodProbe['result'], RegExp, string][] = [
    ['no-tls', /does not offer TLS on its MySQL port/, 'critical'],
    ['refused', /refused the connection on port 3306/, 'critical'],
    ['handshake-failed', /the TLS handshake failed/, 'critical'],
    ['server-error', /answered with an error instead of a greeting/, 'critical'],
    ['timeout', /did not answer in time: no answer within 5s/, 'critical'],
    ['error', /could not be probed/, 'warning'],
  ];
  for (const [result, message, severity] of cases) {
    const report = withWire((pem) => [
      {
        namespace: 'demo',
        pod: 'sdb-leaf-1',
        result,
        message: result === 'timeout' ? 'no answer within 5s while waiting for the MySQL greeting' : 'detail',
        elapsedMs: 5,
      },
      tlsProbe(pods[0] as string, pem),
      tlsProbe('sdb-leaf-0', pem),
    ]);
    const finding = report.findings.find((f) => f.object === 'Pod demo/sdb-leaf-1');
    assert.match(finding?.message ?? '', message, result);
    assert.equal(finding?.severity, severity, result);
  }
});

test('not probed (forbidden, pod not running): informational, and the start-time guess stays where it applies', () => {
  const report = withWire((_pem, snapshot) => {
    startedLongAgo(snapshot, 30);
    return pods.map((pod) => ({
      namespace: 'demo',
      pod,
      result: 'forbidden' as const,
      message: 'forbidden',
      elapsedMs: 3,
    }));
  });
  assert.equal(report.health, 'WARNING');
  assert.ok(
    report.findings.some(
      (f) => f.severity === 'info' && /not probed: forbidden \(pods\/portforward/.test(f.message),
    ),
  );
  assert.ok(report.findings.some((f) => /may serve the old one \(not proven on the wire/.test(f.message)));
  const healthy = withWire(() =>
    pods.map((pod) => ({ namespace: 'demo', pod, result: 'forbidden' as const, elapsedMs: 3 })),
  );
  assert.equal(healthy.health, 'OK', 'a user who may not port-forward still gets OK for a healthy database');
  assert.equal(healthy.served, undefined, 'nothing proven on the wire: no SERVED counts');
});

test('a server that still accepts TLS 1.0/1.1 is a warning', () => {
  const report = withWire((pem) =>
    pods.map((pod, i) => tlsProbe(pod, pem, i === 0 ? { legacyTls: 'accepted' } : {})),
  );
  assert.equal(report.health, 'WARNING');
  assert.match(report.findings[0]?.message ?? '', /still accepts TLS 1.0\/1.1/);
});

test('probe results in the JSON report follow the published v1 schema', async () => {
  const { Ajv } = await import('ajv');
  const schema = JSON.parse(
    readFileSync(new URL('../../src/tls/report.schema.json', import.meta.url), 'utf8'),
  ) as object;
  const validate = new Ajv({ strict: false }).compile(schema);
  const report = withWire((pem) => [
    tlsProbe(pods[0] as string, pem, { clientCertificate: { requested: null, presented: true } }),
    {
      namespace: 'demo',
      pod: 'sdb-leaf-0',
      result: 'timeout',
      message: 'no answer within 5s',
      elapsedMs: 5000,
    },
    { namespace: 'demo', pod: 'sdb-leaf-1', result: 'forbidden', message: 'forbidden', elapsedMs: 3 },
  ]);
  const json = JSON.parse(rendered(report, 'json')) as StatusReport;
  assert.ok(validate(json), JSON.stringify(validate.errors));
  assert.equal(json.databases[0]?.petSets[0]?.pods?.[0]?.probe?.result, 'tls');
  assert.doesNotMatch(JSON.stringify(json), /PRIVATE KEY/);
});
