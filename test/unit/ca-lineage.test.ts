/**
 * The CA behind the certificates, and the honest-output rules of `tls status`: each test breaks one
 * thing in the healthy snapshot (a CA Issuer whose Secret is readable) and checks the verdict.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Certificate, Issuer, Singlestore } from '../../src/kubedb/types.ts';
import { type DiagnoseOptions, diagnose } from '../../src/tls/diagnose.ts';
import type { KubeEvent, Snapshot } from '../../src/tls/gather.ts';
import { renderers } from '../../src/tls/render.ts';
import type { DatabaseReport, StatusReport } from '../../src/tls/report.ts';
import { ca, day, healthySnapshot, leaf, now, secretOf } from '../support/snapshot.ts';
import { type Forged, forgeCertificate } from '../support/x509-forge.ts';

const options: DiagnoseOptions = {
  now,
  warnWithinMs: 30 * day,
  requireTls: false,
  commandName: 'kubectl singlestore',
};

function report(mutate: (snapshot: Snapshot) => void): StatusReport {
  const snapshot = healthySnapshot();
  mutate(snapshot);
  return diagnose(snapshot, options);
}
const check = (mutate: (snapshot: Snapshot) => void) => report(mutate).databases[0] as DatabaseReport;
const items = <T>(listed: unknown) => (listed as { items: T[] }).items;
const issuer = (s: Snapshot) => items<Issuer>(s.issuers)[0] as Issuer;
const db = (s: Snapshot) => items<Singlestore>(s.singlestores)[0] as Singlestore;
const messages = (r: DatabaseReport) => r.findings.map((f) => `${f.severity} ${f.message}`);

/** The issuer's CA Secret now holds this CA. */
function setCa(s: Snapshot, tlsCrt: string, caCrt?: string): void {
  s.caSecrets = [
    { namespace: 'demo', name: 'sdb-ca', ok: true, pems: { tlsCrt, ...(caCrt ? { caCrt } : {}) } },
  ];
}

/** Both leaf Secrets re-issued by this signer, with this ca.crt. */
function reissue(s: Snapshot, signer: Forged, caCrt: string): void {
  const secrets = items<ReturnType<typeof secretOf>>(s.secrets);
  for (const [index, alias] of ['server', 'client'].entries()) {
    const cert = leaf(alias, { issuer: signer });
    const name = `sdb-${alias}-cert`;
    secrets[index] = secretOf(name, { 'tls.crt': cert.pem, 'tls.key': cert.keyPem, 'ca.crt': caCrt });
  }
}

const newCa = (overrides: Partial<Parameters<typeof forgeCertificate>[0]> = {}) =>
  forgeCertificate({
    commonName: 'sdb-ca',
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 3650 * day),
    isCA: true,
    ...overrides,
  });

test('a CA Issuer whose CA signed the leaves: checked, OK, the lineage in the report', () => {
  const r = check(() => {});
  assert.equal(r.health, 'OK');
  assert.deepEqual(r.findings, []);
  assert.equal(r.tls.issuer?.type, 'ca');
  assert.equal(r.tls.issuer?.ca?.checked, true);
  assert.equal(r.tls.issuer?.ca?.secret, 'demo/sdb-ca');
  assert.equal(r.tls.issuer?.ca?.intermediate, false);
  assert.equal(r.certificates[0]?.secret.certificate?.signedByIssuerCa, 'signed');
  assert.equal(r.certificates[0]?.secret.certificate?.caCrtIsIssuerRoot, true);
});

test('the CA Secret replaced by a new CA: CRITICAL, naming the issuer and the rotate --issuer fix', () => {
  const replaced = newCa();
  const r = check((s) => setCa(s, replaced.pem));
  assert.equal(r.health, 'CRITICAL');
  const finding = r.findings[0];
  assert.equal(finding?.step, 'issuer');
  assert.equal(finding?.severity, 'critical');
  assert.match(
    finding?.message ?? '',
    /^Secrets demo\/sdb-server-cert, demo\/sdb-client-cert hold a certificate issued by a CA that Issuer sdb-issuer no longer uses .*clients that trust the current CA will refuse it/,
  );
  assert.match(finding?.hint ?? '', /^kubectl singlestore tls rotate --issuer sdb-issuer -n demo /);
  assert.equal(r.certificates[0]?.secret.certificate?.signedByIssuerCa, 'not-signed');
  // The Secret's own ca.crt still vouches for its leaf: only the issuer check can see the rotation.
  assert.equal(r.certificates[0]?.secret.certificate?.signedByCa, 'signed');
});

test('a ClusterIssuer: its Secret in the cluster resource namespace, the fix with --cluster-issuer -A', () => {
  const replaced = newCa();
  const r = check((s) => {
    db(s).spec = {
      ...db(s).spec,
      tls: { issuerRef: { apiGroup: 'cert-manager.io', kind: 'ClusterIssuer', name: 'ca' } },
    };
    s.clusterIssuers = {
      ok: true,
      items: [{ metadata: { name: 'ca' }, spec: { ca: { secretName: 'root' } }, status: issuer(s).status }],
    };
    s.caSecrets = [{ namespace: 'cert-manager', name: 'root', ok: true, pems: { tlsCrt: replaced.pem } }];
  });
  assert.equal(r.tls.issuer?.ca?.secret, 'cert-manager/root');
  assert.equal(r.health, 'CRITICAL');
  assert.match(r.findings[0]?.hint ?? '', /^kubectl singlestore tls rotate --issuer ca --cluster-issuer -A /);
});

test('a CA renewed with the same key (new serial, new dates) still verifies: OK', () => {
  const renewed = newCa({ keyPem: ca.keyPem });
  const r = check((s) => setCa(s, renewed.pem));
  assert.equal(r.health, 'OK', messages(r).join('\n'));
  assert.equal(r.certificates[0]?.secret.certificate?.caCrtIsIssuerRoot, true);
});

test('an intermediate-CA issuer: leaves signed by the intermediate, ca.crt the intermediate or the root: OK', () => {
  const root = newCa({ commonName: 'root-ca' });
  const intermediate = forgeCertificate({
    commonName: 'sdb-intermediate',
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 1000 * day),
    isCA: true,
    issuer: root,
  });
  for (const leafCaCrt of [intermediate.pem, root.pem]) {
    const r = check((s) => {
      setCa(s, intermediate.pem + root.pem);
      reissue(s, intermediate, leafCaCrt);
    });
    assert.equal(r.tls.issuer?.ca?.intermediate, true);
    assert.equal(r.certificates[0]?.secret.certificate?.signedByIssuerCa, 'signed');
    assert.equal(r.certificates[0]?.secret.certificate?.caCrtIsIssuerRoot, undefined);
    assert.deepEqual(
      r.findings.filter((f) => f.step === 'issuer'),
      [],
    );
  }
});

test("ca.crt is not the issuer's current root although the leaf verifies: WARNING", () => {
  const other = newCa({ commonName: 'someone-else' });
  const r = check((s) => reissue(s, ca, other.pem));
  assert.ok(
    messages(r).some((m) => /^warning ca\.crt of Secrets .* is not Issuer sdb-issuer's current root/.test(m)),
    messages(r).join('\n'),
  );
  assert.equal(r.certificates[0]?.secret.certificate?.caCrtIsIssuerRoot, false);
});

test('a leaf that outlives its CA, and a CA that expires within --warn-within: warnings', () => {
  const shortCa = newCa({ keyPem: ca.keyPem, notAfter: new Date(now.getTime() + 20 * day) });
  const r = check((s) => setCa(s, shortCa.pem));
  assert.equal(r.health, 'WARNING');
  assert.ok(
    messages(r).some((m) => /outlives its CA, which expires at/.test(m)),
    messages(r).join('\n'),
  );
  assert.ok(messages(r).some((m) => /^warning the CA in Secret demo\/sdb-ca expires in 20 day/.test(m)));
  const expired = newCa({
    keyPem: ca.keyPem,
    notBefore: new Date(now.getTime() - 9 * day),
    notAfter: new Date(now.getTime() - day),
  });
  assert.ok(
    messages(check((s) => setCa(s, expired.pem))).some((m) => /^critical the CA .* expired at/.test(m)),
  );
});

test('other issuer types, a forbidden or missing CA Secret: "not checked", informational, verdict unchanged', () => {
  const acme = check((s) => {
    issuer(s).spec = { acme: { server: 'https://acme.example/directory' } };
  });
  assert.equal(acme.health, 'OK');
  assert.deepEqual(messages(acme), ['info CA not checked (issuer type acme)']);
  assert.equal(acme.tls.issuer?.ca?.checked, false);
  const forbidden = check((s) => {
    s.caSecrets = [
      { namespace: 'demo', name: 'sdb-ca', ok: false, reason: 'forbidden', message: 'forbidden' },
    ];
  });
  assert.equal(forbidden.health, 'OK');
  assert.deepEqual(messages(forbidden), ['info CA not checked: forbidden (see the ca-check role)']);
  assert.match(forbidden.findings[0]?.hint ?? '', /kubectl-singlestore-ca-check role/);
  const missing = check((s) => {
    s.caSecrets = [
      { namespace: 'demo', name: 'sdb-ca', ok: false, reason: 'not-found', message: 'not found' },
    ];
  });
  assert.equal(missing.health, 'OK');
  assert.deepEqual(messages(missing), ['info CA not checked: CA Secret demo/sdb-ca not found']);
  assert.match(missing.findings[0]?.hint ?? '', /^kubectl get secret sdb-ca -n demo/);
});

test('--ca-file: checked against the given CA, whatever the issuer type', () => {
  const r = check((s) => {
    issuer(s).spec = { vault: {} };
    s.caSecrets = [];
    s.caFile = { tlsCrt: newCa().pem };
  });
  assert.equal(r.tls.issuer?.ca?.source, 'file');
  assert.equal(r.health, 'CRITICAL');
  assert.match(r.findings[0]?.message ?? '', /not signed by the CA of --ca-file/);
});

test('an issuerRef of another kind or apiGroup: CRITICAL naming both, no issuer shown as Ready', () => {
  for (const ref of [
    { apiGroup: 'cert-manager.io', kind: 'Secret', name: 'sdb-issuer' },
    { apiGroup: 'certmanager.k8s.io', kind: 'Issuer', name: 'sdb-issuer' },
  ]) {
    const r = check((s) => {
      db(s).spec = { ...db(s).spec, tls: { issuerRef: ref } };
    });
    assert.equal(r.health, 'CRITICAL');
    assert.equal(r.tls.issuer, undefined);
    assert.deepEqual(r.tls.issuerRef, ref);
    assert.match(
      r.findings[0]?.message ?? '',
      new RegExp(`kind "${ref.kind}" in apiGroup "${ref.apiGroup}"`),
    );
  }
});

test('an expected Secret of another type is reported as such, not as missing', () => {
  const r = check((s) => {
    const secret = items<ReturnType<typeof secretOf>>(s.secrets)[0] as ReturnType<typeof secretOf>;
    secret.type = 'Opaque';
  });
  assert.equal(r.health, 'CRITICAL');
  assert.equal(r.certificates[0]?.secret.state, 'present');
  assert.equal(r.certificates[0]?.secret.type, 'Opaque');
  assert.match(
    r.findings[0]?.message ?? '',
    /^the Secret exists, type Opaque; KubeDB and cert-manager expect kubernetes.io\/tls$/,
  );
  assert.match(r.findings[0]?.hint ?? '', /kubectl delete secret sdb-server-cert -n demo/);
});

test('every kind that could not be read is named "not checked: forbidden"', () => {
  const forbidden = { ok: false as const, reason: 'forbidden' as const, message: 'nope' };
  const r = check((s) => {
    s.pods = forbidden;
    s.opsRequests = forbidden;
    s.certificateRequests = forbidden;
    s.certificateEvents = forbidden;
  });
  assert.deepEqual(messages(r).sort(), [
    'info CertificateRequests not checked: forbidden',
    'info Events not checked: forbidden',
    'warning Pods not checked: forbidden',
    'warning SinglestoreOpsRequests not checked: forbidden',
  ]);
  assert.ok(r.findings.every((f) => /^kubectl auth can-i list \S+ -n demo: bind/.test(f.hint ?? '')));
});

test("a Certificate not Ready before any CertificateRequest: cert-manager's reason, message and events", () => {
  const r = check((s) => {
    const cert = items<Certificate>(s.certificates)[0] as Certificate;
    cert.status = {
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'DoesNotExist',
          message: 'Issuing certificate as Secret does not exist',
        },
      ],
    };
    const event: KubeEvent = {
      metadata: { name: 'e1', namespace: 'demo' },
      involvedObject: { kind: 'Certificate', name: cert.metadata.name, namespace: 'demo' },
      type: 'Warning',
      reason: 'SecretMismatch',
      message: 'Issuing certificate as Secret was previously issued by Issuer.cert-manager.io/other',
    };
    s.certificateEvents = { ok: true, items: [event] };
  });
  const finding = r.findings.find((f) => f.step === 'certificate');
  assert.match(
    finding?.message ?? '',
    /^not Ready \(DoesNotExist\): Issuing certificate as Secret does not exist; no CertificateRequest yet; event SecretMismatch: Issuing/,
  );
  assert.match(
    finding?.hint ?? '',
    /^kubectl describe certificate sdb-server-cert -n demo; kubectl describe issuer -n demo sdb-issuer$/,
  );
  assert.deepEqual(r.certificates[0]?.recentEvents?.length, 1);
});

test('the first screen of tls status NAME: the verdict, then the numbered findings with their fixes', () => {
  const text = renderers.detail(report((s) => setCa(s, newCa().pem)));
  const lines = text.split('\n');
  assert.equal(lines[0], 'Singlestore demo/sdb: CRITICAL (1 critical)');
  assert.equal(lines[2], 'Findings:');
  assert.match(lines[3] ?? '', /^ {2}1\. CRITICAL \[issuer\] Issuer demo\/sdb-issuer: /);
  assert.match(lines[4] ?? '', /^ {5}fix: kubectl singlestore tls rotate --issuer sdb-issuer -n demo/);
  assert.ok(lines.indexOf('Detail:') > 4);
  assert.match(text, /NOT signed by the issuer's current CA/);
});

test('no hint is a vague "fix the cause": every hint names a command or the object', () => {
  const snapshots: ((s: Snapshot) => void)[] = [
    (s) => setCa(s, newCa().pem),
    (s) => {
      issuer(s).status = { conditions: [{ type: 'Ready', status: 'False', message: 'secret not found' }] };
    },
    (s) => {
      const cert = items<Certificate>(s.certificates)[0] as Certificate;
      cert.status = {
        ...cert.status,
        lastFailureTime: new Date(now.getTime() - 60_000).toISOString(),
        conditions: [{ type: 'Ready', status: 'False', reason: 'Failed', message: 'x' }],
      };
    },
  ];
  for (const mutate of snapshots) {
    for (const finding of check(mutate).findings) {
      assert.doesNotMatch(finding.hint ?? '', /fix the cause|fix the issuer first/);
      if (finding.severity !== 'info') assert.match(finding.hint ?? '', /kubectl|README/, finding.message);
    }
  }
});

test('the CA fields in the JSON report follow the published v1 schema, and no key material is in it', async () => {
  const { Ajv } = await import('ajv');
  const schema = JSON.parse(
    readFileSync(new URL('../../src/tls/report.schema.json', import.meta.url), 'utf8'),
  ) as object;
  const validate = new Ajv({ strict: false }).compile(schema);
  for (const mutate of [
    (s: Snapshot) => setCa(s, newCa().pem),
    (s: Snapshot) => {
      db(s).spec = { ...db(s).spec, tls: { issuerRef: { kind: 'Secret', name: 'x' } } };
    },
    (s: Snapshot) => {
      issuer(s).spec = { acme: {} };
    },
  ]) {
    const json = JSON.parse(renderers.json(report(mutate))) as StatusReport;
    assert.ok(validate(json), JSON.stringify(validate.errors));
    assert.doesNotMatch(JSON.stringify(json), /PRIVATE KEY|BEGIN CERTIFICATE/);
  }
});
