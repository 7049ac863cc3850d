/**
 * The seed flow of the test cluster: the KubeDB stand-in turns a Singlestore with spec.tls into
 * Certificates that the REAL cert-manager issues, Secrets that chain to the Issuer's CA, and PetSets
 * with pods; ops requests rotate and restart.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { findCondition } from '../../src/kube/objects.ts';
import { Resources } from '../../src/kube/resources.ts';
import { serverDnsNames } from '../../src/kubedb/naming.ts';
import type { Certificate, OpsRequest, PetSet, Pod, Secret, Singlestore } from '../../src/kubedb/types.ts';
import {
  adminClient,
  eventually,
  kubectlApply,
  namespaceWithIssuer,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const namespace = 'flow';

function singlestore(name: string, tls = true): string {
  return singlestoreYaml(name, namespace, { leaves: 2, ...(tls ? { issuer: 'sdb-issuer' } : {}) });
}

function opsRequest(name: string, database: string, spec: string): string {
  return `apiVersion: ops.kubedb.com/v1alpha1
kind: SinglestoreOpsRequest
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  databaseRef: {name: ${database}}
${spec}`;
}

const decode = (secret: Secret, key: string) =>
  Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

describe('KubeDB stand-in + real cert-manager', { skip: skipReason }, () => {
  const client = adminClient();

  async function readyCertificate(name: string, minRevision = 1): Promise<Certificate> {
    return eventually(`${name} Ready at revision >= ${minRevision}`, async () => {
      const certificate = await client.find<Certificate>(Resources.certificate, namespace, name);
      const ready = findCondition(certificate?.status?.conditions, 'Ready')?.status === 'True';
      return ready && (certificate?.status?.revision ?? 0) >= minRevision ? certificate : undefined;
    });
  }

  async function opsPhase(name: string, phases: string[]): Promise<OpsRequest> {
    return eventually(`ops request ${name} in ${phases.join('/')}`, async () => {
      const request = await client.get<OpsRequest>(Resources.opsRequest, namespace, name);
      return phases.includes(request.status?.phase ?? '') ? request : undefined;
    });
  }

  test('a Singlestore with spec.tls gets issued Certificates, TLS Secrets and PetSets', async () => {
    await namespaceWithIssuer(namespace);
    kubectlApply(singlestore('sdb'));
    const db = await client.get<Singlestore>(Resources.singlestore, namespace, 'sdb');
    const ca = new X509Certificate(
      decode(await client.get<Secret>(Resources.secret, namespace, 'sdb-ca'), 'tls.crt'),
    );

    for (const alias of ['server', 'client']) {
      const certificate = await readyCertificate(`sdb-${alias}-cert`);
      assert.deepEqual(certificate.metadata.labels, {
        'app.kubernetes.io/name': 'singlestores.kubedb.com',
        'app.kubernetes.io/instance': 'sdb',
        'app.kubernetes.io/managed-by': 'kubedb.com',
        'app.kubernetes.io/component': 'database',
      });
      assert.equal(certificate.metadata.ownerReferences?.[0]?.uid, db.metadata.uid);
      const secret = await client.get<Secret>(Resources.secret, namespace, `sdb-${alias}-cert`);
      assert.equal(secret.type, 'kubernetes.io/tls');
      assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
      const leaf = new X509Certificate(decode(secret, 'tls.crt'));
      assert.ok(
        leaf.checkIssued(ca) && leaf.verify(ca.publicKey),
        `${alias} certificate chains to the issuer CA`,
      );
      assert.equal(decode(secret, 'ca.crt').trim(), ca.toString().trim());
    }
    const server = new X509Certificate(
      decode(await client.get<Secret>(Resources.secret, namespace, 'sdb-server-cert'), 'tls.crt'),
    );
    for (const name of serverDnsNames('sdb', namespace))
      assert.match(server.subjectAltName ?? '', new RegExp(`DNS:${name.replace(/[.*]/g, '\\$&')}`));

    for (const petSetName of ['sdb-aggregator', 'sdb-leaf']) {
      const petSet = await client.get<PetSet>(Resources.petset, namespace, petSetName);
      assert.ok(petSet.spec.template.spec?.volumes?.some((volume) => volume.name === 'tls-volume'));
    }
    const pods = await eventually('three running pods', async () => {
      const list = await client.list<Pod>(Resources.pod, {
        namespace,
        labelSelector: 'app.kubernetes.io/instance=sdb',
      });
      return list.items.length === 3 && list.items.every((pod) => pod.status?.phase === 'Running')
        ? list.items
        : undefined;
    });
    assert.ok(pods.every((pod) => pod.status?.startTime));
  });

  test('ReconfigureTLS rotateCertificates re-issues and restarts; Restart rolls the pods', async () => {
    const before = await readyCertificate('sdb-server-cert');
    const podsBefore = await client.list<Pod>(Resources.pod, {
      namespace,
      labelSelector: 'app.kubernetes.io/instance=sdb',
    });
    kubectlApply(opsRequest('rotate', 'sdb', '  type: ReconfigureTLS\n  tls: {rotateCertificates: true}'));
    const done = await opsPhase('rotate', ['Successful', 'Failed']);
    assert.equal(done.status?.phase, 'Successful', JSON.stringify(done.status));
    const after = await readyCertificate('sdb-server-cert', (before.status?.revision ?? 1) + 1);
    assert.ok((after.status?.revision ?? 0) > (before.status?.revision ?? 0));
    const podsAfter = await client.list<Pod>(Resources.pod, {
      namespace,
      labelSelector: 'app.kubernetes.io/instance=sdb',
    });
    const oldUids = new Set(podsBefore.items.map((pod) => pod.metadata.uid));
    assert.ok(
      podsAfter.items.every((pod) => !oldUids.has(pod.metadata.uid)),
      'every pod was replaced',
    );

    kubectlApply(opsRequest('restart', 'sdb', '  type: Restart\n  restart: {}'));
    assert.equal((await opsPhase('restart', ['Successful', 'Failed'])).status?.phase, 'Successful');
    const petSet = await client.get<PetSet>(Resources.petset, namespace, 'sdb-leaf');
    assert.equal(petSet.status?.updateRevision, petSet.status?.currentRevision);
    assert.equal(petSet.status?.observedGeneration, petSet.metadata.generation);
  });

  test('ReconfigureTLS adds TLS to a running database; a request for a missing database fails', async () => {
    kubectlApply(singlestore('plain', false));
    await eventually(
      'plain provisioned',
      async () =>
        (await client.get<Singlestore>(Resources.singlestore, namespace, 'plain')).status?.phase === 'Ready',
    );
    kubectlApply(
      opsRequest(
        'add-tls',
        'plain',
        '  type: ReconfigureTLS\n  tls:\n    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: sdb-issuer}',
      ),
    );
    assert.equal((await opsPhase('add-tls', ['Successful', 'Failed'])).status?.phase, 'Successful');
    await readyCertificate('plain-server-cert');

    kubectlApply(opsRequest('ghost', 'no-such-db', '  type: Restart\n  restart: {}'));
    const failed = await opsPhase('ghost', ['Failed']);
    assert.match(JSON.stringify(failed.status?.conditions), /database \\"no-such-db\\" not found/);
  });
});
