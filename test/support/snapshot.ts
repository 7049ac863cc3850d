/**
 * TEST-ONLY: a gathered snapshot of one healthy TLS-enabled database, built in memory with forged
 * certificates, for the pure diagnosis tests to break one step at a time.
 */
import { certificateName, databaseLabels, serverDnsNames } from '../../src/kubedb/naming.ts';
import type { Certificate, Issuer, PetSet, Pod, Singlestore } from '../../src/kubedb/types.ts';
import type { SecretSummary, Snapshot } from '../../src/tls/gather.ts';
import { inspectTlsData } from '../../src/tls/x509.ts';
import { type Forged, forgeCertificate } from './x509-forge.ts';

export const now = new Date('2026-06-01T12:00:00Z');
export const day = 86_400_000;
export const namespace = 'demo';
export const dbName = 'sdb';

export const ca = forgeCertificate({
  commonName: 'sdb-ca',
  notBefore: new Date(now.getTime() - 100 * day),
  notAfter: new Date(now.getTime() + 3650 * day),
  isCA: true,
});

export function leaf(alias: string, overrides: Partial<Parameters<typeof forgeCertificate>[0]> = {}): Forged {
  return forgeCertificate({
    commonName: alias === 'server' ? dbName : 'root',
    notBefore: new Date(now.getTime() - 10 * day),
    notAfter: new Date(now.getTime() + 80 * day),
    dnsNames: alias === 'server' ? serverDnsNames(dbName, namespace) : [],
    issuer: ca,
    ...overrides,
  });
}

export function secretOf(
  name: string,
  data: { 'tls.crt'?: string; 'tls.key'?: string; 'ca.crt'?: string },
): SecretSummary {
  return {
    name,
    namespace,
    type: 'kubernetes.io/tls',
    keys: Object.keys(data).sort(),
    facts: inspectTlsData(data),
    ...(data['tls.crt'] ? { tlsCrt: data['tls.crt'] } : {}),
    ...(data['ca.crt'] ? { caCrt: data['ca.crt'] } : {}),
  };
}

const readyCondition = {
  type: 'Ready',
  status: 'True',
  reason: 'Ready',
  message: 'Certificate is up to date and has not expired',
};

export function healthySnapshot(): Snapshot {
  const db: Singlestore = {
    apiVersion: 'kubedb.com/v1alpha2',
    kind: 'Singlestore',
    metadata: { name: dbName, namespace, uid: 'db-uid', generation: 1 },
    spec: {
      topology: { aggregator: { replicas: 1 }, leaf: { replicas: 2 } },
      tls: { issuerRef: { apiGroup: 'cert-manager.io', kind: 'Issuer', name: 'sdb-issuer' } },
    },
    status: { phase: 'Ready' },
  };
  const certificates: Certificate[] = [];
  const secrets: SecretSummary[] = [];
  for (const alias of ['server', 'client']) {
    const name = certificateName(dbName, alias);
    const cert = leaf(alias);
    certificates.push({
      metadata: {
        name,
        namespace,
        labels: databaseLabels(dbName),
        ownerReferences: [
          {
            apiVersion: 'kubedb.com/v1alpha2',
            kind: 'Singlestore',
            name: dbName,
            uid: 'db-uid',
            controller: true,
          },
        ],
      },
      spec: { secretName: name, issuerRef: { name: 'sdb-issuer', kind: 'Issuer', group: 'cert-manager.io' } },
      status: {
        conditions: [readyCondition],
        revision: 1,
        notBefore: inspectTlsData({ 'tls.crt': cert.pem }).certificate?.notBefore,
        notAfter: inspectTlsData({ 'tls.crt': cert.pem }).certificate?.notAfter,
      },
    });
    secrets.push(secretOf(name, { 'tls.crt': cert.pem, 'tls.key': cert.keyPem, 'ca.crt': ca.pem }));
  }
  const petSets: PetSet[] = ['sdb-aggregator', 'sdb-leaf'].map((name, index) => ({
    metadata: { name, namespace, generation: 2 },
    spec: {
      replicas: index + 1,
      template: {
        spec: {
          volumes: [
            {
              name: 'tls-volume',
              projected: {
                sources: [{ secret: { name: 'sdb-server-cert' } }, { secret: { name: 'sdb-client-cert' } }],
              },
            },
          ],
        },
      },
    },
    status: {
      observedGeneration: 2,
      replicas: index + 1,
      readyReplicas: index + 1,
      updatedReplicas: index + 1,
      currentRevision: `${name}-a`,
      updateRevision: `${name}-a`,
    },
  }));
  const started = new Date(now.getTime() - 5 * day).toISOString();
  const pods: Pod[] = [
    ['sdb-aggregator-0', 'sdb-aggregator'],
    ['sdb-leaf-0', 'sdb-leaf'],
    ['sdb-leaf-1', 'sdb-leaf'],
  ].map(([name, owner]) => ({
    metadata: {
      name: name as string,
      namespace,
      ownerReferences: [
        {
          apiVersion: 'apps.k8s.appscode.com/v1',
          kind: 'PetSet',
          name: owner as string,
          uid: `${owner}-uid`,
        },
      ],
    },
    status: {
      phase: 'Running',
      startTime: started,
      containerStatuses: [{ name: 'singlestore', state: { running: { startedAt: started } } }],
    },
  }));
  const issuer: Issuer = {
    metadata: { name: 'sdb-issuer', namespace },
    spec: { ca: { secretName: 'sdb-ca' } },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
  return {
    scope: { namespace },
    certManagerServed: true,
    opsRequestsServed: true,
    singlestores: { ok: true, items: [db] },
    certificates: { ok: true, items: certificates },
    certificateRequests: { ok: true, items: [] },
    certificateEvents: { ok: true, items: [] },
    secrets: { ok: true, items: secrets },
    petSets: { ok: true, items: petSets },
    pods: { ok: true, items: pods },
    issuers: { ok: true, items: [issuer] },
    clusterIssuers: { ok: true, items: [] },
    opsRequests: { ok: true, items: [] },
    clusterResourceNamespace: 'cert-manager',
    caSecrets: [{ namespace, name: 'sdb-ca', ok: true, pems: { tlsCrt: ca.pem, caCrt: ca.pem } }],
  };
}
