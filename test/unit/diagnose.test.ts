import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Certificate, Singlestore } from '../../src/kubedb/types.ts';
import { type DiagnoseOptions, diagnose } from '../../src/tls/diagnose.ts';
import type { Snapshot } from '../../src/tls/gather.ts';
import { renderers } from '../../src/tls/render.ts';
import type { DatabaseReport } from '../../src/tls/report.ts';
import { ca, day, healthySnapshot, leaf, now, secretOf } from '../support/snapshot.ts';
import { forgeCertificate } from '../support/x509-forge.ts';

const options: DiagnoseOptions = {
  now,
  warnWithinMs: 30 * day,
  requireTls: false,
  commandName: 'kubectl singlestore',
};

function check(mutate: (snapshot: Snapshot) => void, extra: Partial<DiagnoseOptions> = {}): DatabaseReport {
  const snapshot = healthySnapshot();
  mutate(snapshot);
  const report = diagnose(snapshot, { ...options, ...extra });
  return report.databases[0] as DatabaseReport;
}

const items = <T>(listed: unknown) => (listed as { items: T[] }).items;
const at = (report: DatabaseReport, step: string) => report.findings.find((f) => f.step === step);
const db = (snapshot: Snapshot) => items<Singlestore>(snapshot.singlestores)[0] as Singlestore;
const certificate = (snapshot: Snapshot, name: string) =>
  items<Certificate>(snapshot.certificates).find((c) => c.metadata.name === name) as Certificate;
function replaceSecret(snapshot: Snapshot, name: string, data: Parameters<typeof secretOf>[1]) {
  const secrets = items<ReturnType<typeof secretOf>>(snapshot.secrets);
  secrets.splice(
    secrets.findIndex((s) => s.name === name),
    1,
    secretOf(name, data),
  );
}

test('a healthy database: OK, no findings, the facts in the report', () => {
  const report = check(() => {});
  assert.equal(report.health, 'OK');
  assert.deepEqual(report.findings, []);
  assert.equal(report.earliestExpiry?.daysLeft, 80);
  assert.equal(report.certificates.length, 2);
  assert.equal(report.certificates[0]?.secret.certificate?.signedByCa, 'signed');
  assert.equal(report.certificates[0]?.secret.certificate?.keyMatchesCertificate, 'matches');
  assert.ok(report.petSets.every((petSet) => petSet.rolledOut && petSet.mountsTlsSecrets));
});

test('TLS disabled is informational, unless TLS is required', () => {
  const disable = (s: Snapshot) => {
    delete db(s).spec?.tls;
  };
  const report = check(disable);
  assert.equal(report.health, 'OK');
  assert.equal(report.findings[0]?.severity, 'info');
  assert.match(report.findings[0]?.hint ?? '', /^kubectl singlestore tls enable sdb -n demo --issuer/);
  assert.equal(check(disable, { requireTls: true }).health, 'CRITICAL');
});

test('cert-manager missing is the first finding', () => {
  const snapshot = healthySnapshot();
  snapshot.certManagerServed = false;
  snapshot.issuers = { ok: false, reason: 'not-served', message: 'not served' };
  const report = diagnose(snapshot, options);
  assert.equal(report.summary.health, 'CRITICAL');
  assert.equal(report.findings[0]?.step, 'cert-manager');
  assert.equal(report.databases[0]?.findings[0]?.step, 'cert-manager');
});

test('issuer missing or not Ready: critical, named before anything downstream', () => {
  const missing = check((s) => {
    s.issuers = { ok: true, items: [] };
    replaceSecret(s, 'sdb-server-cert', { 'tls.crt': 'garbage', 'tls.key': '', 'ca.crt': '' });
  });
  assert.equal(missing.health, 'CRITICAL');
  assert.equal(missing.findings[0]?.step, 'issuer');
  assert.match(missing.findings[0]?.message ?? '', /Issuer "sdb-issuer" does not exist/);
  const notReady = check((s) => {
    s.issuers = {
      ok: true,
      items: [
        {
          metadata: { name: 'sdb-issuer', namespace: 'demo' },
          status: { conditions: [{ type: 'Ready', status: 'False', message: 'secret "sdb-ca" not found' }] },
        },
      ],
    };
  });
  assert.match(notReady.findings[0]?.message ?? '', /Issuer is not Ready: secret "sdb-ca" not found/);
});

test('a ClusterIssuer is looked up cluster-wide', () => {
  const report = check((s) => {
    const tls = db(s).spec?.tls;
    if (tls) tls.issuerRef = { kind: 'ClusterIssuer', name: 'global' };
    s.clusterIssuers = {
      ok: true,
      items: [{ metadata: { name: 'global' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }],
    };
  });
  assert.equal(report.health, 'OK');
  assert.equal(report.tls.issuer?.kind, 'ClusterIssuer');
});

test('a failing Certificate shows the CertificateRequest message and the back-off', () => {
  const report = check((s) => {
    const cert = certificate(s, 'sdb-server-cert');
    cert.status = {
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'DoesNotExist',
          message: 'Issuing certificate as Secret does not exist',
        },
        {
          type: 'Issuing',
          status: 'False',
          reason: 'Failed',
          message: 'The certificate request has failed to complete',
        },
      ],
      lastFailureTime: new Date(now.getTime() - 20 * 60_000).toISOString(),
      failedIssuanceAttempts: 1,
    };
    s.certificateRequests = {
      ok: true,
      items: [
        {
          metadata: {
            name: 'sdb-server-cert-1',
            namespace: 'demo',
            annotations: { 'cert-manager.io/certificate-revision': '1' },
            ownerReferences: [
              { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: 'sdb-server-cert', uid: 'x' },
            ],
          },
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'False',
                reason: 'Failed',
                message: 'issuer rejected the request: CA key is invalid',
              },
            ],
          },
        },
      ],
    };
  });
  const finding = report.findings.find((f) => f.step === 'certificate');
  assert.equal(finding?.severity, 'critical');
  assert.match(
    finding?.message ?? '',
    /latest CertificateRequest sdb-server-cert-1: issuer rejected the request: CA key is invalid/,
  );
  assert.match(finding?.message ?? '', /will not try again before 2026-06-01T12:40:00.000Z/);
  assert.equal(report.certificates[0]?.nextAttemptTime, '2026-06-01T12:40:00.000Z');
});

test('Certificate or Secret missing: critical at their step', () => {
  const noCert = check((s) => {
    s.certificates = {
      ok: true,
      items: items<Certificate>(s.certificates).filter((c) => c.metadata.name !== 'sdb-client-cert'),
    };
  });
  assert.match(
    noCert.findings[0]?.message ?? '',
    /Certificate "sdb-client-cert" \(alias client\) does not exist/,
  );
  const noSecret = check((s) => {
    s.secrets = {
      ok: true,
      items: items<ReturnType<typeof secretOf>>(s.secrets).filter((x) => x.name !== 'sdb-server-cert'),
    };
  });
  assert.equal(noSecret.health, 'CRITICAL');
  assert.equal(noSecret.findings[0]?.step, 'secret');
  assert.match(noSecret.findings[0]?.message ?? '', /Secret "sdb-server-cert" does not exist/);
});

test('garbage in tls.crt, a missing key file, an unreadable key', () => {
  const garbage = check((s) =>
    replaceSecret(s, 'sdb-server-cert', { 'tls.crt': 'not a certificate', 'tls.key': 'x', 'ca.crt': ca.pem }),
  );
  assert.match(garbage.findings.map((f) => f.message).join('\n'), /tls.crt holds no PEM certificate/);
  const cert = leaf('server');
  const noKey = check((s) => replaceSecret(s, 'sdb-server-cert', { 'tls.crt': cert.pem, 'ca.crt': ca.pem }));
  assert.match(noKey.findings.map((f) => f.message).join('\n'), /the Secret lacks tls.key/);
  const badKey = check((s) =>
    replaceSecret(s, 'sdb-server-cert', { 'tls.crt': cert.pem, 'tls.key': 'nonsense', 'ca.crt': ca.pem }),
  );
  assert.match(badKey.findings.map((f) => f.message).join('\n'), /tls.key does not parse as a private key/);
});

test('expired, soon-to-expire and not-yet-valid certificates, with the threshold from --warn-within', () => {
  const expiring = leaf('server', { notAfter: new Date(now.getTime() + 10 * day) });
  const soon = check((s) =>
    replaceSecret(s, 'sdb-server-cert', {
      'tls.crt': expiring.pem,
      'tls.key': expiring.keyPem,
      'ca.crt': ca.pem,
    }),
  );
  assert.equal(soon.health, 'WARNING');
  assert.match(at(soon, 'secret')?.message ?? '', /expires in 10 day\(s\)/);
  assert.equal(
    check(
      (s) =>
        replaceSecret(s, 'sdb-server-cert', {
          'tls.crt': expiring.pem,
          'tls.key': expiring.keyPem,
          'ca.crt': ca.pem,
        }),
      { warnWithinMs: 7 * day },
    ).findings.filter((f) => f.step === 'secret').length,
    0,
  );

  const expired = leaf('server', {
    notBefore: new Date(now.getTime() - 100 * day),
    notAfter: new Date(now.getTime() - 2 * day),
  });
  const dead = check((s) =>
    replaceSecret(s, 'sdb-server-cert', {
      'tls.crt': expired.pem,
      'tls.key': expired.keyPem,
      'ca.crt': ca.pem,
    }),
  );
  assert.equal(dead.health, 'CRITICAL');
  assert.match(at(dead, 'secret')?.message ?? '', /expired 2 day\(s\) ago/);
  assert.equal(dead.earliestExpiry?.daysLeft, -2);

  const future = leaf('server', {
    notBefore: new Date(now.getTime() + day),
    notAfter: new Date(now.getTime() + 90 * day),
  });
  const early = check((s) =>
    replaceSecret(s, 'sdb-server-cert', {
      'tls.crt': future.pem,
      'tls.key': future.keyPem,
      'ca.crt': ca.pem,
    }),
  );
  assert.match(at(early, 'secret')?.message ?? '', /not valid yet/);
});

test('a leaf not signed by ca.crt is critical even when cert-manager says Ready', () => {
  const rotatedCa = forgeCertificate({
    commonName: 'sdb-ca',
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 365 * day),
    isCA: true,
  });
  const cert = leaf('server');
  const report = check((s) =>
    replaceSecret(s, 'sdb-server-cert', {
      'tls.crt': cert.pem,
      'tls.key': cert.keyPem,
      'ca.crt': rotatedCa.pem,
    }),
  );
  assert.equal(report.health, 'CRITICAL');
  assert.equal(report.certificates[0]?.ready, true);
  assert.match(at(report, 'secret')?.message ?? '', /not signed by the CA in ca.crt/);
});

test('a key that does not match the certificate', () => {
  const cert = leaf('server');
  const other = leaf('server');
  const report = check((s) =>
    replaceSecret(s, 'sdb-server-cert', { 'tls.crt': cert.pem, 'tls.key': other.keyPem, 'ca.crt': ca.pem }),
  );
  assert.match(at(report, 'secret')?.message ?? '', /tls.key does not belong to the certificate/);
});

test('server SANs that do not cover the Services', () => {
  const cert = leaf('server', { dnsNames: ['custom.example.com'] });
  const report = check((s) =>
    replaceSecret(s, 'sdb-server-cert', { 'tls.crt': cert.pem, 'tls.key': cert.keyPem, 'ca.crt': ca.pem }),
  );
  assert.match(
    at(report, 'secret')?.message ?? '',
    /does not cover sdb.demo.svc, sdb-aggregator-0.sdb-pods.demo.svc/,
  );
});

test('cert-manager status that disagrees with the Secret', () => {
  const report = check((s) => {
    const cert = certificate(s, 'sdb-client-cert');
    if (cert.status) cert.status.notAfter = '2030-01-01T00:00:00Z';
  });
  assert.equal(report.health, 'WARNING');
  assert.match(
    report.findings[0]?.message ?? '',
    /status says notAfter 2030-01-01T00:00:00Z but the Secret holds/,
  );
});

test('PetSets: missing, not mounting the Secrets, rollout unfinished', () => {
  const missing = check((s) => {
    s.petSets = { ok: true, items: [] };
  });
  assert.match(missing.findings[0]?.message ?? '', /PetSet "sdb-aggregator" does not exist/);
  const unmounted = check((s) => {
    const petSet = items<{ spec: { template: { spec?: { volumes?: unknown[] } } } }>(s.petSets)[1];
    if (petSet?.spec.template.spec) petSet.spec.template.spec.volumes = [];
  });
  assert.match(unmounted.findings[0]?.message ?? '', /does not mount sdb-server-cert, sdb-client-cert/);
  const rolling = check((s) => {
    const petSet = items<{ status: { updatedReplicas: number; updateRevision: string } }>(s.petSets)[1];
    if (petSet) {
      petSet.status.updatedReplicas = 1;
      petSet.status.updateRevision = 'sdb-leaf-b';
    }
  });
  assert.equal(rolling.health, 'WARNING');
  assert.match(rolling.findings[0]?.message ?? '', /rollout not finished: 1\/2 updated/);
});

test('pods started before the certificate was issued: a warning that suggests --restart-only', () => {
  const report = check((s) => {
    const pod = items<{ status: { containerStatuses: { state: { running: { startedAt: string } } }[] } }>(
      s.pods,
    )[0];
    const started = pod?.status.containerStatuses[0];
    if (started) started.state.running.startedAt = new Date(now.getTime() - 30 * day).toISOString();
  });
  assert.equal(report.health, 'WARNING');
  assert.equal(report.findings[0]?.step, 'pods');
  assert.deepEqual(report.petSets[0]?.stalePods, ['sdb-aggregator-0']);
  assert.equal(report.findings[0]?.hint, 'kubectl singlestore tls rotate sdb -n demo --restart-only');
});

test('forbidden Secrets: that section is "not checked", the rest of the report still comes out', () => {
  const report = check((s) => {
    s.secrets = {
      ok: false,
      reason: 'forbidden',
      message: 'cannot list secrets in namespace "demo": forbidden for user "alice"',
    };
  });
  assert.equal(report.health, 'WARNING');
  assert.deepEqual(
    report.findings.map((f) => f.message),
    ['Secrets not checked: forbidden'],
  );
  assert.ok(report.certificates.every((c) => c.secret.state === 'not-checked' && c.ready === true));
  assert.match(
    renderers.detail({ ...diagnose(healthySnapshot(), options), databases: [report] }),
    /Secret sdb-server-cert: not checked: forbidden/,
  );
});

test('ops requests: in flight is informational, the latest failed one a warning', () => {
  const ops = (phase: string, name: string, created: string) => ({
    metadata: { name, namespace: 'demo', creationTimestamp: created },
    spec: { type: 'ReconfigureTLS', databaseRef: { name: 'sdb' } },
    status: {
      phase,
      conditions: [
        { type: phase, status: 'True', message: phase === 'Failed' ? 'issuer not found' : 'working' },
      ],
    },
  });
  const running = check((s) => {
    s.opsRequests = { ok: true, items: [ops('Progressing', 'a', '2026-06-01T11:00:00Z')] };
  });
  assert.equal(running.health, 'OK');
  assert.equal(running.findings[0]?.severity, 'info');
  const failed = check((s) => {
    s.opsRequests = {
      ok: true,
      items: [ops('Successful', 'a', '2026-06-01T10:00:00Z'), ops('Failed', 'b', '2026-06-01T11:00:00Z')],
    };
  });
  assert.equal(failed.health, 'WARNING');
  assert.match(
    failed.findings[0]?.message ?? '',
    /the latest ReconfigureTLS request failed: issuer not found/,
  );
});

test('the report keeps its documented shape', () => {
  const report = diagnose(healthySnapshot(), options);
  assert.equal(report.apiVersion, 'singlestore.tls.kubedb.com/v1');
  assert.equal(report.kind, 'TLSStatusReport');
  assert.deepEqual(Object.keys(report), [
    'apiVersion',
    'kind',
    'generatedAt',
    'scope',
    'warnWithinDays',
    'findings',
    'databases',
    'summary',
  ]);
  assert.deepEqual(Object.keys(report.databases[0] ?? {}), [
    'namespace',
    'name',
    'health',
    'phase',
    'tls',
    'certificates',
    'petSets',
    'opsRequests',
    'findings',
    'earliestExpiry',
  ]);
  assert.deepEqual(report.summary, { databases: 1, ok: 1, warning: 0, critical: 0, health: 'OK' });
  const json = JSON.parse(renderers.json(report));
  assert.equal(json.databases[0].certificates[0].secret.certificate.daysLeft, 80);
  assert.doesNotMatch(renderers.json(report), /PRIVATE KEY/);
});

test('the table: kubectl look, one row per database', () => {
  const text = renderers.table(diagnose(healthySnapshot(), options));
  const [header, row] = text.split('\n');
  assert.equal(
    header,
    'NAME   TLS       ISSUER               CERTS   EXPIRES   ROLLOUT   SERVED   STATUS   FINDING',
  );
  assert.equal(row, 'sdb    enabled   sdb-issuer (Ready)   2/2     80d       done      -        OK       -');
  assert.ok(text.split('\n').every((line) => line === line.trimEnd()));
});

test('objects of unexpected shape: reported, never a crash', () => {
  const report = check((s) => {
    const database = db(s) as unknown as { spec?: unknown; status?: unknown };
    database.status = undefined;
    const petSet = items<{
      spec: { template: { spec?: { volumes?: unknown } }; replicas?: unknown };
      status?: unknown;
    }>(s.petSets)[0];
    if (petSet?.spec.template.spec) petSet.spec.template.spec.volumes = 'not-a-list';
    if (petSet) petSet.status = undefined;
  });
  assert.equal(report.phase, 'Unknown');
  assert.match(
    report.findings.map((f) => f.message).join('\n'),
    /does not mount sdb-server-cert, sdb-client-cert/,
  );
  const bare = check((s) => {
    const database = db(s) as unknown as { spec?: unknown };
    database.spec = undefined;
  });
  assert.equal(bare.tls.enabled, false);
});

test('many databases: each is checked against its own namespace, never a same-named neighbour', () => {
  const snapshot = healthySnapshot();
  const lists = ['certificates', 'secrets', 'petSets', 'issuers', 'singlestores'] as const;
  // The same database, issuer and objects in a second namespace, with its server Secret broken.
  for (const key of lists) {
    const list = items<{ metadata?: { namespace?: string }; namespace?: string }>(snapshot[key]);
    for (const item of structuredClone(list)) {
      if (item.metadata) item.metadata.namespace = 'other';
      else item.namespace = 'other';
      list.push(item);
    }
  }
  const secrets = items<ReturnType<typeof secretOf>>(snapshot.secrets);
  const broken = secrets.find((s) => s.namespace === 'other' && s.name.endsWith('-server-cert'));
  assert.ok(broken);
  Object.assign(broken, { ...secretOf(broken.name, { 'tls.crt': 'garbage' }), namespace: 'other' });
  snapshot.caSecrets.push({
    ...(snapshot.caSecrets[0] as (typeof snapshot.caSecrets)[0]),
    namespace: 'other',
  });
  snapshot.scope = {};
  const report = diagnose(snapshot, options);
  assert.deepEqual(
    report.databases.map((database) => [database.namespace, database.health]),
    [
      ['demo', 'OK'],
      ['other', 'CRITICAL'],
    ],
  );
  assert.ok(at(report.databases[1] as DatabaseReport, 'secret'), 'the broken Secret is found');
  assert.equal(at(report.databases[0] as DatabaseReport, 'secret'), undefined);
});
