/**
 * Many databases (-A, the namespace's table, -l): one paged LIST per kind, every kind in parallel,
 * so the number of requests follows the number of pages, not of databases. Each page is reduced to
 * what belongs to a selected database as it arrives and the rest is dropped, so memory follows the
 * databases, not the cluster: of the Secrets, only those a selected database refers to are kept (and
 * later decoded). Every page waits for the selection (the Singlestores, the first list to finish).
 *
 * A few databases picked by -l in a big namespace are read one by one instead (read-one.ts): a
 * handful of reads by name costs less than listing every Secret and Certificate of the namespace.
 */
import type { KubeClient, ListOptions } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources, type ResourceType } from '../kube/resources.ts';
import type { Certificate, Issuer, OpsRequest, PetSet, Pod, Secret, Singlestore } from '../kubedb/types.ts';
import { clientCertificateLabels } from './client-certs.ts';
import { readDatabase } from './read-one.ts';
import {
  type CertificateRequest,
  expectedCertificates,
  expectedSecrets,
  type KubeEvent,
  keyOf,
  kubedbSelector,
  type Listed,
  listed,
  merged,
  type Reads,
  served,
  slim,
} from './reads.ts';

export interface ManyScope {
  namespace?: string | undefined;
  name?: string | undefined;
  labelSelector?: string | undefined;
}

/**
 * Up to this many databases selected by -l are read one by one (about ten small requests each, in
 * two rounds) rather than by listing every kind of their namespace (scripts/bench-status.ts measures
 * both).
 */
export const perDatabaseReadsUpTo = 3;

/** What the selected databases refer to, as "namespace/name" keys. */
interface Selection {
  databases: Set<string>;
  certificates: Set<string>;
  secrets: Set<string>;
  issuers: Set<string>;
  clusterIssuers: Set<string>;
}

export async function readMany(client: KubeClient, scope: ManyScope): Promise<Reads> {
  const { namespace } = scope;
  const databases = listed(() =>
    collect<Singlestore>(
      client,
      Resources.singlestore,
      {
        namespace,
        labelSelector: scope.labelSelector || undefined,
        fieldSelector: scope.name ? `metadata.name=${scope.name}` : undefined,
      },
      { keep: () => true },
    ),
  );
  if (scope.labelSelector) {
    const selected = await databases;
    if (selected.ok && selected.items.length > 0 && selected.items.length <= perDatabaseReadsUpTo) {
      const reads = await Promise.all(
        selected.items.map((db) =>
          readDatabase(client, { namespace: db.metadata.namespace ?? '', name: db.metadata.name }, db),
        ),
      );
      return { ...combined(reads), singlestores: selected };
    }
  }
  const selection = databases.then(selectionOf);
  // A failed Singlestore read is reported through `databases`; the pages that wait for the
  // selection may never ask for it.
  selection.catch(() => {});
  /** One paged LIST of a kind, keeping what `keep` says belongs to the selection. */
  const read = <T extends KubeObject>(
    type: ResourceType,
    options: ListOptions,
    keep: (item: T, selected: Selection) => boolean,
  ) => listed(() => collect<T>(client, type, { namespace, ...options }, { keep, selection }));
  const [
    singlestores,
    certificates,
    certificateRequests,
    certificateEvents,
    secrets,
    petSets,
    pods,
    issuers,
    clusterIssuers,
    opsRequests,
  ] = await Promise.all([
    databases,
    read<Certificate>(
      Resources.certificate,
      {},
      (item, selected) => selected.certificates.has(keyOf(item)) || clientCertificateOf(item, selected),
    ),
    read<CertificateRequest>(Resources.certificateRequest, {}, (item, selected) =>
      (item.metadata.ownerReferences ?? []).some(
        (owner) =>
          owner.kind === 'Certificate' &&
          selected.certificates.has(`${item.metadata.namespace ?? ''}/${owner.name}`),
      ),
    ),
    read<KubeEvent>(Resources.event, { fieldSelector: 'involvedObject.kind=Certificate' }, (item, selected) =>
      selected.certificates.has(`${item.involvedObject.namespace ?? ''}/${item.involvedObject.name ?? ''}`),
    ),
    // No type filter: an expected Secret of another type must be reported as such, not as missing.
    // A client certificate's Secret is known by the labels cert-manager keeps on it (the Certificate's
    // secretTemplate); the exact set is settled below, once the Certificates are read.
    read<Secret>(
      Resources.secret,
      {},
      (item, selected) => selected.secrets.has(keyOf(item)) || clientCertificateOf(item, selected),
    ),
    read<PetSet>(Resources.petset, { labelSelector: kubedbSelector }, (item, selected) =>
      selected.databases.has(instanceOf(item)),
    ),
    read<Pod>(Resources.pod, { labelSelector: kubedbSelector }, (item, selected) =>
      selected.databases.has(instanceOf(item)),
    ),
    read<Issuer>(Resources.issuer, {}, (item, selected) => selected.issuers.has(keyOf(item))),
    listed(() =>
      collect<Issuer>(
        client,
        Resources.clusterIssuer,
        {},
        { keep: (item, selected) => selected.clusterIssuers.has(item.metadata.name), selection },
      ),
    ),
    read<OpsRequest>(Resources.opsRequest, {}, (item, selected) =>
      selected.databases.has(`${item.metadata.namespace ?? ''}/${item.spec?.databaseRef?.name ?? ''}`),
    ),
  ]);
  return {
    certManagerServed: served(certificates),
    opsRequestsServed: served(opsRequests),
    singlestores,
    certificates,
    certificateRequests,
    certificateEvents,
    secrets: exactSecrets(secrets, singlestores, certificates),
    petSets,
    pods,
    issuers,
    clusterIssuers,
    opsRequests,
  };
}

/** Page through one kind, keeping (slimmed) only what `keep` accepts once the selection is known. */
async function collect<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  options: ListOptions,
  filter: { keep: (item: T, selected: Selection) => boolean; selection?: Promise<Selection> },
): Promise<T[]> {
  const { keep, selection } = filter;
  const kept: T[] = [];
  await client.listPages<T>(type, options, async (items) => {
    const selected = selection ? await selection : undefined;
    for (const item of items) if (!selected || keep(item, selected)) kept.push(slim(item));
  });
  return kept;
}

function selectionOf(databases: Listed<Singlestore>): Selection {
  const selection: Selection = {
    databases: new Set(),
    certificates: new Set(),
    secrets: new Set(),
    issuers: new Set(),
    clusterIssuers: new Set(),
  };
  for (const db of databases.ok ? databases.items : []) {
    const namespace = db.metadata.namespace ?? '';
    selection.databases.add(keyOf(db));
    for (const name of expectedCertificates(db)) selection.certificates.add(`${namespace}/${name}`);
    for (const name of expectedSecrets(db, [])) selection.secrets.add(`${namespace}/${name}`);
    const ref = db.spec?.tls?.issuerRef;
    if (ref?.kind === 'ClusterIssuer') selection.clusterIssuers.add(ref.name);
    else if (ref) selection.issuers.add(`${namespace}/${ref.name}`);
  }
  return selection;
}

/** "namespace/instance" of an object labelled with the database it belongs to. */
function instanceOf(item: KubeObject): string {
  return `${item.metadata.namespace ?? ''}/${item.metadata.labels?.['app.kubernetes.io/instance'] ?? ''}`;
}

/** Whether an object carries the labels of a client certificate of a selected database. */
function clientCertificateOf(item: KubeObject, selected: Selection): boolean {
  const database = item.metadata.labels?.['app.kubernetes.io/instance'];
  if (database === undefined) return false;
  const labels = item.metadata.labels ?? {};
  return (
    selected.databases.has(`${item.metadata.namespace ?? ''}/${database}`) &&
    Object.entries(clientCertificateLabels(database)).every(([key, value]) => labels[key] === value)
  );
}

/** The Secrets the selected databases and their client Certificates name, exactly. */
function exactSecrets(
  secrets: Listed<Secret>,
  databases: Listed<Singlestore>,
  certificates: Listed<Certificate>,
): Listed<Secret> {
  if (!secrets.ok) return secrets;
  // Each database's client certificates by its instance label, so this stays linear in the databases.
  const labelled = new Map<string, Certificate[]>();
  for (const certificate of certificates.ok ? certificates.items : []) {
    const key = instanceOf(certificate);
    labelled.set(key, [...(labelled.get(key) ?? []), certificate]);
  }
  const expected = new Set(
    (databases.ok ? databases.items : []).flatMap((db) =>
      expectedSecrets(db, labelled.get(keyOf(db)) ?? []).map(
        (name) => `${db.metadata.namespace ?? ''}/${name}`,
      ),
    ),
  );
  return { ok: true, items: secrets.items.filter((secret) => expected.has(keyOf(secret))) };
}

/** The reads of a few databases, one by one, as one. */
function combined(reads: Reads[]): Omit<Reads, 'singlestores'> {
  const kind = <K extends keyof Reads>(key: K) =>
    merged(reads.map((read) => read[key] as Listed<never>)) as Reads[K];
  return {
    certManagerServed: reads.every((read) => read.certManagerServed),
    opsRequestsServed: reads.every((read) => read.opsRequestsServed),
    certificates: kind('certificates'),
    certificateRequests: kind('certificateRequests'),
    certificateEvents: kind('certificateEvents'),
    secrets: kind('secrets'),
    petSets: kind('petSets'),
    pods: kind('pods'),
    issuers: kind('issuers'),
    clusterIssuers: kind('clusterIssuers'),
    opsRequests: kind('opsRequests'),
  };
}
