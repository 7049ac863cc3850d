/**
 * One database's objects, and nothing else: `tls status NAME`, and the final check of enable and
 * rotate. Two rounds of parallel requests whatever the namespace holds: first what the database's name
 * alone tells (the Singlestore, its PetSets, pods, CertificateRequests and client certificates by
 * label, its namespace's ops requests), then what its spec names (its Certificates, their Events, its
 * Secrets, its Issuer or ClusterIssuer). gather.ts may add a third for the issuer's CA Secret.
 *
 * "By name" is a LIST with fieldSelector=metadata.name=NAME, not a GET: the status role of
 * docs/rbac.yaml grants `list` only, and a `get` on Secrets would be one more permission to grant on
 * the same Secrets. The API server answers such a LIST from the object's own key instead of scanning
 * the kind (k8s.io/apiserver/pkg/registry/generic/registry/store.go, ListPredicate: "if name, ok :=
 * p.MatchesSingle()" reads the single key), so it costs a GET whatever the namespace holds.
 */
import type { KubeClient, ListOptions } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources, type ResourceType } from '../kube/resources.ts';
import type { Certificate, Issuer, OpsRequest, PetSet, Pod, Secret, Singlestore } from '../kubedb/types.ts';
import { invalidIssuerRef } from './ca.ts';
import { clientCertificateSelector } from './client-certs.ts';
import {
  type CertificateRequest,
  expectedCertificates,
  expectedSecrets,
  type KubeEvent,
  kubedbSelector,
  type Listed,
  listed,
  merged,
  notServed,
  type Reads,
  served,
  slim,
} from './reads.ts';

export async function readDatabase(
  client: KubeClient,
  target: { namespace: string; name: string },
  /** The Singlestore, when a list already read it. */
  known?: Singlestore,
): Promise<Reads> {
  const { namespace, name } = target;
  const list = <T extends KubeObject>(type: ResourceType, options: Omit<ListOptions, 'namespace'>) =>
    listed(async () => (await client.list<T>(type, { namespace, ...options })).items.map(slim));
  const byName = <T extends KubeObject>(type: ResourceType, objectName: string) =>
    list<T>(type, { fieldSelector: `metadata.name=${objectName}` });
  const instance = `app.kubernetes.io/instance=${name}`;
  const [singlestores, petSets, pods, certificateRequests, clientCertificates, opsRequests] =
    await Promise.all([
      known
        ? Promise.resolve<Listed<Singlestore>>({ ok: true, items: [known] })
        : byName<Singlestore>(Resources.singlestore, name),
      list<PetSet>(Resources.petset, { labelSelector: `${instance},${kubedbSelector}` }),
      list<Pod>(Resources.pod, { labelSelector: `${instance},${kubedbSelector}` }),
      // cert-manager copies a Certificate's labels onto its CertificateRequests.
      list<CertificateRequest>(Resources.certificateRequest, { labelSelector: instance }),
      list<Certificate>(Resources.certificate, { labelSelector: clientCertificateSelector(name) }),
      // KubeDB's own ops requests carry no label of the database, and users create them by hand
      // (KubeDB's docs): the namespace's requests, matched on spec.databaseRef.
      listed(async () =>
        (await client.list<OpsRequest>(Resources.opsRequest, { namespace })).items
          .filter((request) => request.spec?.databaseRef?.name === name)
          .map(slim),
      ),
    ]);
  const certManagerServed = served(clientCertificates);
  const db = singlestores.ok ? singlestores.items[0] : undefined;
  const ref = db?.spec?.tls?.issuerRef;
  const tls = Boolean(ref) && certManagerServed;
  const clients = clientCertificates.ok ? clientCertificates.items : [];
  const certificateNames = db && tls ? expectedCertificates(db) : [];
  const secretNames = db && tls ? expectedSecrets(db, clients) : [];
  const cluster = ref?.kind === 'ClusterIssuer';
  const readIssuer = tls && ref && !invalidIssuerRef(ref);
  const none = <T>(): Promise<Listed<T>> => Promise.resolve({ ok: true, items: [] });
  const [certificates, events, secrets, issuers, clusterIssuers] = await Promise.all([
    Promise.all(
      certificateNames.map((certificate) => byName<Certificate>(Resources.certificate, certificate)),
    ),
    Promise.all(
      certificateNames.map((certificate) =>
        list<KubeEvent>(Resources.event, {
          fieldSelector: `involvedObject.kind=Certificate,involvedObject.name=${certificate}`,
        }),
      ),
    ),
    // Kept whole (data included) for the facts and the probe; gather reduces them.
    Promise.all(secretNames.map((secret) => byName<Secret>(Resources.secret, secret))),
    readIssuer && !cluster ? byName<Issuer>(Resources.issuer, ref.name) : none<Issuer>(),
    // Cluster-scoped: the path has no namespace.
    readIssuer && cluster ? byName<Issuer>(Resources.clusterIssuer, ref.name) : none<Issuer>(),
  ]);
  return {
    certManagerServed,
    opsRequestsServed: served(opsRequests),
    singlestores,
    certificates: certManagerServed ? merged([...certificates, clientCertificates]) : notServed,
    certificateRequests,
    certificateEvents: merged(events),
    secrets: merged(secrets),
    petSets,
    pods,
    issuers: certManagerServed ? issuers : notServed,
    clusterIssuers: certManagerServed ? clusterIssuers : notServed,
    opsRequests,
  };
}
