/**
 * Honest status output, end to end: an expected Secret of another type is reported as such (not as
 * missing); every kind the user may not read is named "not checked: forbidden"; an issuerRef of
 * another kind or group is critical and named; hints are commands naming the object.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { ExitCode } from '../../src/errors.ts';
import type { StatusReport } from '../../src/tls/report.ts';
import {
  certificatesReady,
  eventually,
  kubectl,
  kubectlApply,
  namespaceWithIssuer,
  repoRoot,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const ns = 'honest-e2e';
const status = (args: string[]) =>
  runPlugin(['tls', 'status', '--probe=false', '-n', ns, ...args], { timeoutMs: 120_000 });

describe('honest status output', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(
      [
        singlestoreYaml('h', ns, { issuer: 'sdb-issuer' }),
        // Its server Secret's name is taken by an Opaque Secret before the database asks for it.
        `apiVersion: v1\nkind: Secret\nmetadata: {name: o-server-cert, namespace: ${ns}}\ntype: Opaque\nstringData: {note: not a certificate}`,
        singlestoreYaml('o', ns, { issuer: 'sdb-issuer' }),
        // May read the TLS objects, but not pods, ops requests, CertificateRequests or events.
        `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: narrow, namespace: ${ns}}
rules:
  - {apiGroups: [kubedb.com], resources: [singlestores], verbs: [list]}
  - {apiGroups: [cert-manager.io], resources: [certificates, issuers], verbs: [list]}
  - {apiGroups: [apps.k8s.appscode.com], resources: [petsets], verbs: [list]}
  - {apiGroups: [""], resources: [secrets], verbs: [list]}`,
        `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: narrow, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: narrow}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: narrow}]`,
      ].join('\n---\n'),
    );
    await certificatesReady(ns, 'h');
  });

  test('an expected Secret of type Opaque: "exists, type Opaque", not "missing"', async () => {
    const secret = 'o-server-cert';
    await eventually('Opaque Secret in place', async () => {
      const result = await status(['o', '-o', 'json']);
      const report = JSON.parse(result.stdout) as StatusReport;
      return report.databases[0]?.certificates.find((c) => c.alias === 'server')?.secret.state === 'present';
    });
    const result = await status(['o']);
    assert.equal(result.code, ExitCode.findings);
    assert.match(
      result.stdout,
      new RegExp(
        `Secret ${ns}/${secret}: the Secret exists, type Opaque; KubeDB and cert-manager expect kubernetes.io/tls`,
      ),
    );
    assert.match(
      result.stdout,
      new RegExp(`fix: a Secret's type cannot be changed: .*kubectl delete secret ${secret} -n ${ns}`),
    );
    assert.doesNotMatch(result.stdout, new RegExp(`Secret "${secret}" does not exist`));
    assert.match(result.stdout, new RegExp(`Secret ${secret} \\(type Opaque\\): `));
  });

  test('every kind that could not be read is named "not checked: forbidden", with the command to check', async () => {
    const result = await status(['h', '--as', 'narrow']);
    for (const kind of ['Pods', 'SinglestoreOpsRequests', 'CertificateRequests', 'Events']) {
      assert.match(
        result.stdout,
        new RegExp(`${kind} in ${ns}: ${kind} not checked: forbidden`),
        result.stdout,
      );
    }
    assert.match(
      result.stdout,
      new RegExp(`fix: kubectl auth can-i list pods -n ${ns}: bind the kubectl-singlestore-status role`),
    );
    assert.equal(result.code, ExitCode.findings, result.stderr);
  });

  test('an issuerRef of another kind or group: CRITICAL naming both; JSON still follows the schema', async () => {
    kubectl([
      'patch',
      'singlestore',
      'h',
      '-n',
      ns,
      '--type',
      'merge',
      '-p',
      '{"spec":{"tls":{"issuerRef":{"apiGroup":"cert-manager.io","kind":"Secret","name":"sdb-issuer"}}}}',
    ]);
    const result = await status(['h']);
    assert.equal(result.code, ExitCode.findings);
    assert.match(result.stdout, /^Singlestore honest-e2e\/h: CRITICAL/);
    assert.match(
      result.stdout,
      /names kind "Secret" in apiGroup "cert-manager.io": KubeDB needs kind Issuer or ClusterIssuer/,
    );
    assert.match(result.stdout, /fix: kubectl edit singlestore h -n honest-e2e: set spec.tls.issuerRef/);
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'src', 'tls', 'report.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false, formats: { 'date-time': true } }).compile(
      schema,
    );
    const json = await status(['-o', 'json']);
    const report = JSON.parse(json.stdout) as StatusReport;
    assert.ok(validate(report), JSON.stringify(validate.errors));
    assert.equal(report.databases.find((db) => db.name === 'h')?.tls.issuerRef?.kind, 'Secret');
    for (const db of report.databases)
      for (const finding of db.findings)
        if (finding.severity !== 'info') assert.match(finding.hint ?? '', /kubectl|README/, finding.message);
  });
});
