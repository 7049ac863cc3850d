/**
 * TEST-ONLY stand-in for KubeDB's Singlestore provisioner (the real one is licensed and not available
 * here). From a Singlestore it creates what KubeDB creates for TLS: the Services, the
 * `<db>-<alias>-cert` Certificates (KubeDB's names, labels, SANs and owner) that the real cert-manager
 * then issues, and the PetSet(s) mounting the TLS Secrets; then it reports the database Ready.
 * A Singlestore annotated `standin.kubectl-singlestore.test/ignore: "true"` is left alone (benchmarks
 * create their objects directly).
 */
import { ApiError } from '../../src/errors.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject, OwnerReference } from '../../src/kube/objects.ts';
import { Resources } from '../../src/kube/resources.ts';
import type {
  Certificate,
  CertificateSpec,
  OpsRequest,
  PetSet,
  PodTemplate,
  Singlestore,
} from '../../src/kubedb/types.ts';
import {
  certificateAliases,
  certificateName,
  offshootLabels as databaseLabels,
  governingServiceName,
  petSets,
  serverCertificateDnsNames,
  type TopologyNames,
  tlsMountDir,
  tlsVolume,
} from './kubedb-names.ts';

export const ignoreAnnotation = 'standin.kubectl-singlestore.test/ignore';

export async function reconcileSinglestore(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<undefined> {
  const db = await client.find<Singlestore>(Resources.singlestore, namespace, name);
  if (!db || db.metadata.deletionTimestamp || db.metadata.annotations?.[ignoreAnnotation] === 'true')
    return undefined;
  const owner = ownerOf(db);
  for (const service of [name, governingServiceName(name)]) {
    await createIfMissing(client, Resources.service, namespace, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service, namespace, labels: databaseLabels(name), ownerReferences: [owner] },
      spec: {
        ...(service === name ? {} : { clusterIP: 'None' }),
        selector: databaseLabels(name),
        ports: [{ name: 'db', port: 3306 }],
      },
    } as KubeObject);
  }
  const certificates = desiredCertificates(db);
  for (const certificate of certificates) await apply(client, Resources.certificate, certificate);
  await removeStaleCertificates(client, db, certificates);
  // While KubeDB's ops manager reconfigures TLS it updates the PetSets itself (with the restart).
  if (!(await reconfiguringTls(client, db))) {
    for (const petSet of desiredPetSets(db)) await apply(client, Resources.petset, petSet);
  }
  if (db.status?.phase !== 'Ready') {
    const now = new Date().toISOString();
    await client.patch(
      Resources.singlestore,
      { namespace, name },
      {
        status: {
          phase: 'Ready',
          observedGeneration: db.metadata.generation,
          conditions: [
            {
              type: 'ProvisioningStarted',
              status: 'True',
              reason: 'DatabaseProvisioningStartedSuccessfully',
              lastTransitionTime: now,
            },
            {
              type: 'Provisioned',
              status: 'True',
              reason: 'DatabaseSuccessfullyProvisioned',
              lastTransitionTime: now,
            },
            { type: 'Ready', status: 'True', reason: 'AllReplicasReady', lastTransitionTime: now },
          ],
        },
      },
      { subresource: 'status' },
    );
  }
  return undefined;
}

/** A ReconfigureTLS ops request of this database is under way (the ops manager owns its PetSets). */
async function reconfiguringTls(client: KubeClient, db: Singlestore): Promise<boolean> {
  const requests = await client.list<OpsRequest>(Resources.opsRequest, { namespace: db.metadata.namespace });
  return requests.items.some(
    (request) =>
      request.spec.databaseRef?.name === db.metadata.name &&
      request.spec.type === 'ReconfigureTLS' &&
      request.status?.phase === 'Progressing',
  );
}

function ownerOf(db: Singlestore): OwnerReference & { blockOwnerDeletion: boolean } {
  return {
    apiVersion: 'kubedb.com/v1alpha2',
    kind: 'Singlestore',
    name: db.metadata.name,
    uid: db.metadata.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function certificateSpecs(db: Singlestore): CertificateSpec[] {
  const tls = db.spec?.tls;
  if (!tls?.issuerRef) return [];
  const given = tls.certificates ?? [];
  return certificateAliases(given).map((alias) => given.find((spec) => spec.alias === alias) ?? { alias });
}

export function desiredCertificates(db: Singlestore): Certificate[] {
  const { name, namespace = 'default' } = db.metadata;
  const issuer = db.spec?.tls?.issuerRef;
  return certificateSpecs(db).map((spec) => {
    const certName = certificateName(name, spec.alias);
    const ref = spec.issuerRef ?? issuer;
    const isServer = spec.alias === 'server';
    return {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: certName, namespace, labels: databaseLabels(name), ownerReferences: [ownerOf(db)] },
      spec: {
        secretName: spec.secretName ?? certName,
        issuerRef: {
          name: ref?.name ?? '',
          kind: ref?.kind ?? 'Issuer',
          group: ref?.apiGroup ?? 'cert-manager.io',
        },
        commonName: isServer ? name : 'root',
        dnsNames: [...(isServer ? serverCertificateDnsNames(name, namespace) : []), ...(spec.dnsNames ?? [])],
        // KubeDB adds no IP address of its own: only those the user lists.
        ...(spec.ipAddresses?.length ? { ipAddresses: spec.ipAddresses } : {}),
        ...(spec.subject ? { subject: spec.subject } : {}),
        ...(spec.duration ? { duration: spec.duration } : {}),
        ...(spec.renewBefore ? { renewBefore: spec.renewBefore } : {}),
        ...(spec.privateKey?.encoding ? { privateKey: { encoding: spec.privateKey.encoding } } : {}),
        usages: ['digital signature', 'key encipherment', isServer ? 'server auth' : 'client auth'],
      },
    };
  });
}

async function removeStaleCertificates(
  client: KubeClient,
  db: Singlestore,
  keep: Certificate[],
): Promise<void> {
  const { name, namespace } = db.metadata;
  const existing = await client.list<Certificate>(Resources.certificate, {
    namespace,
    labelSelector: `app.kubernetes.io/instance=${name},app.kubernetes.io/managed-by=kubedb.com`,
  });
  const wanted = new Set(keep.map((certificate) => certificate.metadata.name));
  for (const certificate of existing.items) {
    if (!wanted.has(certificate.metadata.name)) {
      await client.delete(Resources.certificate, namespace, certificate.metadata.name);
    }
  }
}

export function desiredPetSets(db: Singlestore): PetSet[] {
  const { name, namespace } = db.metadata;
  const topology = db.spec?.topology;
  const certificates = desiredCertificates(db);
  return petSetsOf(db).map(({ name: petSetName, role }) => {
    const replicas =
      role === 'aggregator'
        ? (topology?.aggregator?.replicas ?? 1)
        : role === 'leaf'
          ? (topology?.leaf?.replicas ?? 2)
          : 1;
    const labels = { ...databaseLabels(name), 'kubedb.com/role': role };
    const template: PodTemplate = {
      metadata: { labels },
      spec: {
        containers: [
          {
            name: 'singlestore',
            image: 'ghcr.io/appscode-images/singlestore-node:test',
            volumeMounts: certificates.length ? [{ name: tlsVolume, mountPath: tlsMountDir }] : [],
          } as never,
        ],
        volumes: certificates.length
          ? [
              {
                name: tlsVolume,
                projected: {
                  sources: certificates.map((certificate) => ({
                    secret: { name: certificate.spec.secretName },
                  })),
                },
              },
            ]
          : [],
      },
    };
    return {
      apiVersion: 'apps.k8s.appscode.com/v1',
      kind: 'PetSet',
      metadata: { name: petSetName, namespace, labels, ownerReferences: [ownerOf(db)] },
      spec: {
        replicas,
        serviceName: governingServiceName(name),
        selector: { matchLabels: labels },
        template,
      },
    };
  });
}

/** The database's PetSets, by KubeDB's names (a topology's `suffix` included). */
export function petSetsOf(db: Singlestore): { name: string; role: string }[] {
  return petSets(db.metadata.name, db.spec?.topology as TopologyNames | undefined);
}

/** Create, or merge the desired spec into what exists, keeping annotations others added (restarts). */
async function apply(
  client: KubeClient,
  type: typeof Resources.certificate | typeof Resources.petset,
  desired: Certificate | PetSet,
): Promise<void> {
  const { namespace, name } = desired.metadata;
  const existing = await client.find<Certificate | PetSet>(type, namespace, name);
  if (!existing) {
    await createIfMissing(client, type, namespace as string, desired);
    return;
  }
  const merged = mergeKeepingAnnotations(
    existing.spec as Record<string, unknown>,
    desired.spec as Record<string, unknown>,
  );
  if (JSON.stringify(subset(existing.spec, merged)) !== JSON.stringify(merged)) {
    await client.patch(type, { namespace, name }, { spec: merged });
  }
}

function mergeKeepingAnnotations(
  existing: Record<string, unknown>,
  desired: Record<string, unknown>,
): Record<string, unknown> {
  const template = desired.template as PodTemplate | undefined;
  const annotations = (existing.template as PodTemplate | undefined)?.metadata?.annotations;
  if (!template || !annotations) return desired;
  return { ...desired, template: { ...template, metadata: { ...template.metadata, annotations } } };
}

/** The part of `actual` that `like` describes, for a stable comparison. */
function subset(actual: unknown, like: unknown): unknown {
  // A list that shrank (spec.tls removed: no TLS volume) differs too, not only one that changed.
  if (Array.isArray(like))
    return Array.isArray(actual) && actual.length === like.length
      ? like.map((item, i) => subset(actual[i], item))
      : actual;
  if (like && typeof like === 'object') {
    const record = (actual ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(like).map(([key, value]) => [key, subset(record[key], value)]));
  }
  return actual;
}

async function createIfMissing(
  client: KubeClient,
  type: Parameters<KubeClient['create']>[0],
  namespace: string,
  body: KubeObject,
): Promise<void> {
  try {
    await client.create(type, namespace, body);
  } catch (error) {
    if (!(error instanceof ApiError && error.isConflict)) throw error;
  }
}
