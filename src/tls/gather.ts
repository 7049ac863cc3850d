/**
 * Gather: every API call `tls status` makes, and nothing else. One LIST per kind, all in parallel,
 * whatever the number of databases, so a cluster-wide status costs the same few requests for 1 or 1000
 * databases. A kind that cannot be read (forbidden, not served) becomes data, not an abort.
 * TLS Secrets are reduced to their facts here, so key material never leaves this module.
 */
import { ApiError } from '../errors.ts';
import type { KubeClient, ListOptions } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources, type ResourceType } from '../kube/resources.ts';
import { governingServiceName, tlsCertificates } from '../kubedb/naming.ts';
import type { Certificate, Issuer, OpsRequest, PetSet, Pod, Secret, Singlestore } from '../kubedb/types.ts';
import { type CaPems, caSecretOf, defaultClusterResourceNamespace } from './ca.ts';
import { isClientCertificateOf } from './client-certs.ts';
import { type PodProbe, type ProbeOptions, type ProbeTarget, probePods } from './probe.ts';
import { inspectTlsData, type SecretFacts } from './x509.ts';

export type Listed<T> =
  | { ok: true; items: T[] }
  | { ok: false; reason: 'forbidden' | 'not-served' | 'error'; message: string };

export interface CertificateRequest extends KubeObject {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export interface KubeEvent extends KubeObject {
  involvedObject: { kind?: string; name?: string; namespace?: string };
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
}

/** A TLS Secret without its private key: what it holds, as facts, and its public certificates. */
export interface SecretSummary {
  name: string;
  namespace: string;
  type: string;
  keys: string[];
  facts: SecretFacts;
  /** tls.crt and ca.crt as PEM: public, kept to compare them with the issuer's CA. */
  tlsCrt?: string;
  caCrt?: string;
}

/** An issuer's CA Secret, read by name: its public certificates only, or why it could not be read. */
export type CaRead = { namespace: string; name: string } & (
  | { ok: true; pems: CaPems }
  | { ok: false; reason: 'forbidden' | 'not-found' | 'error'; message: string }
);

export interface Scope {
  /** Undefined with --all-namespaces. */
  namespace?: string;
  name?: string;
  labelSelector?: string;
}

export interface Snapshot {
  scope: Scope;
  certManagerServed: boolean;
  opsRequestsServed: boolean;
  singlestores: Listed<Singlestore>;
  certificates: Listed<Certificate>;
  certificateRequests: Listed<CertificateRequest>;
  certificateEvents: Listed<KubeEvent>;
  secrets: Listed<SecretSummary>;
  petSets: Listed<PetSet>;
  pods: Listed<Pod>;
  issuers: Listed<Issuer>;
  clusterIssuers: Listed<Issuer>;
  opsRequests: Listed<OpsRequest>;
  /** cert-manager's --cluster-resource-namespace: where a CA ClusterIssuer's Secret lives. */
  clusterResourceNamespace: string;
  /** The CA Secret of each CA-type issuer the selected databases use (none read with --ca-file). */
  caSecrets: CaRead[];
  /** The CA a user supplied with --ca-file: checked instead of the issuers' CA Secrets. */
  caFile?: CaPems;
  /** What each pod of the selected databases serves on the wire; undefined when not probed. */
  wire?: PodProbe[];
}

export interface GatherOptions {
  /** Probe every pod of the selected databases through a port-forward; omit to skip. */
  probe?: ProbeOptions;
  /** Default `cert-manager`. */
  clusterResourceNamespace?: string;
  /** A CA given by the user (PEM): no CA Secret is read. */
  caFile?: CaPems;
}

const kubedbSelector = 'app.kubernetes.io/name=singlestores.kubedb.com';
const notServed = { ok: false, reason: 'not-served', message: 'not served by the API server' } as const;

export async function gather(
  client: KubeClient,
  scope: Scope,
  options: GatherOptions = {},
): Promise<Snapshot> {
  const namespace = scope.namespace;
  const [certManagerServed, opsRequestsServed] = await Promise.all([
    client.serves(Resources.certificate),
    client.serves(Resources.opsRequest),
  ]);
  const certManager = <T extends KubeObject>(type: ResourceType, options: ListOptions = {}) =>
    certManagerServed ? listed<T>(client, type, { namespace, ...options }) : Promise.resolve(notServed);
  const listing = {
    singlestores: listed<Singlestore>(client, Resources.singlestore, {
      namespace,
      labelSelector: scope.labelSelector || undefined,
      fieldSelector: scope.name ? `metadata.name=${scope.name}` : undefined,
    }),
    // No type filter: an expected Secret of another type must be reported as such, not as missing.
    secrets: listed<Secret>(client, Resources.secret, { namespace }),
    pods: listed<Pod>(client, Resources.pod, { namespace, labelSelector: kubedbSelector }),
    issuers: certManager<Issuer>(Resources.issuer),
    clusterIssuers: certManagerServed
      ? listed<Issuer>(client, Resources.clusterIssuer, {})
      : Promise.resolve<Listed<Issuer>>(notServed),
  };
  const clusterResourceNamespace = options.clusterResourceNamespace ?? defaultClusterResourceNamespace;
  // The CA Secrets are read by name once the databases and their issuers are known: one GET per
  // CA-type issuer in use, whatever the number of databases.
  const readingCas = options.caFile
    ? Promise.resolve([])
    : Promise.all([listing.singlestores, listing.issuers, listing.clusterIssuers]).then(
        ([dbs, issuers, clusterIssuers]) =>
          readCaSecrets(client, caSecretsInUse({ dbs, issuers, clusterIssuers, clusterResourceNamespace })),
      );
  // The probe starts as soon as it knows the pods and their Secrets, while the other lists still run.
  const probing = options.probe
    ? Promise.all([listing.singlestores, listing.pods, listing.secrets]).then(([dbs, pods, secrets]) =>
        probePods(client, probeTargets(dbs, pods, secrets), options.probe as ProbeOptions),
      )
    : Promise.resolve(undefined);
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
    wire,
    caSecrets,
  ] = await Promise.all([
    listing.singlestores,
    certManager<Certificate>(Resources.certificate),
    certManager<CertificateRequest>(Resources.certificateRequest),
    listed<KubeEvent>(client, Resources.event, {
      namespace,
      fieldSelector: 'involvedObject.kind=Certificate',
    }),
    listing.secrets,
    listed<PetSet>(client, Resources.petset, { namespace, labelSelector: kubedbSelector }),
    listing.pods,
    listing.issuers,
    listing.clusterIssuers,
    opsRequestsServed
      ? listed<OpsRequest>(client, Resources.opsRequest, { namespace })
      : Promise.resolve(notServed),
    probing,
    readingCas,
  ]);
  return {
    scope,
    certManagerServed,
    opsRequestsServed,
    singlestores,
    certificates,
    certificateRequests,
    certificateEvents,
    secrets: summarizeSecrets(secrets, expectedSecrets(singlestores, certificates)),
    petSets,
    pods,
    issuers,
    clusterIssuers,
    opsRequests,
    clusterResourceNamespace,
    caSecrets,
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(wire ? { wire } : {}),
  };
}

/**
 * "namespace/name" of every Secret a selected TLS database expects: KubeDB's, and those of the client
 * certificates `tls client-cert` made for it.
 */
function expectedSecrets(singlestores: Listed<Singlestore>, certificates: Listed<Certificate>): Set<string> {
  return new Set(
    (singlestores.ok ? singlestores.items : []).flatMap((db) => {
      if (!db.spec?.tls?.issuerRef) return [];
      const database = { namespace: db.metadata.namespace ?? '', name: db.metadata.name };
      const clients = (certificates.ok ? certificates.items : [])
        .filter((certificate) => isClientCertificateOf(certificate, database))
        .map((certificate) => `${database.namespace}/${certificate.spec.secretName}`);
      return [
        ...tlsCertificates(db.metadata.name, db.spec.tls.certificates).map(
          (entry) => `${database.namespace}/${entry.secret}`,
        ),
        ...clients,
      ];
    }),
  );
}

/** The CA Secrets of the CA-type issuers the selected databases refer to, each once. */
function caSecretsInUse(listed: {
  dbs: Listed<Singlestore>;
  issuers: Listed<Issuer>;
  clusterIssuers: Listed<Issuer>;
  clusterResourceNamespace: string;
}): { namespace: string; name: string }[] {
  const found = new Map<string, { namespace: string; name: string }>();
  for (const db of listed.dbs.ok ? listed.dbs.items : []) {
    const ref = db.spec?.tls?.issuerRef;
    if (!ref) continue;
    const cluster = ref.kind === 'ClusterIssuer';
    const namespace = db.metadata.namespace ?? '';
    const pool = cluster ? listed.clusterIssuers : listed.issuers;
    const issuer = (pool.ok ? pool.items : []).find(
      (item) => item.metadata.name === ref.name && (cluster || item.metadata.namespace === namespace),
    );
    const secret = issuer && caSecretOf(issuer, { cluster, namespace }, listed.clusterResourceNamespace);
    if (secret) found.set(`${secret.namespace}/${secret.name}`, secret);
  }
  return [...found.values()];
}

/** GET each CA Secret; only its public certificates leave this function, never tls.key. */
export async function readCaSecrets(
  client: KubeClient,
  secrets: { namespace: string; name: string }[],
): Promise<CaRead[]> {
  return Promise.all(
    secrets.map(async ({ namespace, name }): Promise<CaRead> => {
      try {
        const secret = await client.find<Secret>(Resources.secret, namespace, name);
        if (!secret) return { namespace, name, ok: false, reason: 'not-found', message: 'not found' };
        const caCrt = decode(secret.data?.['ca.crt']);
        return {
          namespace,
          name,
          ok: true,
          pems: { tlsCrt: decode(secret.data?.['tls.crt']) ?? '', ...(caCrt ? { caCrt } : {}) },
        };
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.isForbidden)
          return { namespace, name, ok: false, reason: 'forbidden', message: error.message };
        if (error.status === 0 || error.status === 401) throw error;
        return { namespace, name, ok: false, reason: 'error', message: error.message };
      }
    }),
  );
}

/**
 * Every pod of the selected TLS databases, with what the probe needs from their Secrets: the server
 * Secret's ca.crt to check the served chain, and the client certificate to present. The key stays
 * in memory for the handshake and is dropped with the targets.
 */
function probeTargets(
  singlestores: Listed<Singlestore>,
  pods: Listed<Pod>,
  secrets: Listed<Secret>,
): ProbeTarget[] {
  if (!singlestores.ok || !pods.ok) return [];
  const secretData = new Map(
    (secrets.ok ? secrets.items : []).map((secret) => [
      `${secret.metadata.namespace}/${secret.metadata.name}`,
      secret.data ?? {},
    ]),
  );
  return singlestores.items.flatMap((db) => {
    if (!db.spec?.tls?.issuerRef) return [];
    const namespace = db.metadata.namespace ?? '';
    const name = db.metadata.name;
    const expected = tlsCertificates(name, db.spec?.tls?.certificates);
    const dataOf = (alias: string) => {
      const secret = expected.find((entry) => entry.alias === alias)?.secret;
      return secret ? secretData.get(`${namespace}/${secret}`) : undefined;
    };
    const server = dataOf('server');
    const client = dataOf('client');
    const caPem = decode(server?.['ca.crt']);
    const cert = decode(client?.['tls.crt']);
    const key = decode(client?.['tls.key']);
    return pods.items
      .filter(
        (pod) =>
          pod.metadata.namespace === namespace &&
          pod.metadata.labels?.['app.kubernetes.io/instance'] === name,
      )
      .map((pod) => ({
        namespace,
        pod: pod.metadata.name,
        phase: pod.metadata.deletionTimestamp ? 'Terminating' : pod.status?.phase,
        servername: `${pod.metadata.name}.${governingServiceName(name)}.${namespace}.svc`,
        ...(caPem ? { caPem } : {}),
        ...(cert && key ? { clientCertificate: { cert, key } } : {}),
      }));
  });
}

function decode(value: string | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

async function listed<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  options: ListOptions,
): Promise<Listed<T>> {
  try {
    return { ok: true, items: (await client.list<T>(type, options)).items };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.isForbidden) return { ok: false, reason: 'forbidden', message: error.message };
    if (error.status === 404) return notServed;
    // Unreachable server, timeouts, authentication: nothing else would work either.
    if (error.status === 0 || error.status === 401) throw error;
    return { ok: false, reason: 'error', message: error.message };
  }
}

/** Only the Secrets a selected database expects are kept, whatever their type. */
function summarizeSecrets(secrets: Listed<Secret>, expected: Set<string>): Listed<SecretSummary> {
  if (!secrets.ok) return secrets;
  return {
    ok: true,
    items: secrets.items
      .filter((secret) => expected.has(`${secret.metadata.namespace}/${secret.metadata.name}`))
      .map((secret) => {
        const data = secret.data ?? {};
        const decoded = (key: string) => decode(data[key]);
        return {
          name: secret.metadata.name,
          namespace: secret.metadata.namespace ?? '',
          type: secret.type ?? '',
          keys: Object.keys(data).sort(),
          facts: inspectTlsData({
            'tls.crt': decoded('tls.crt'),
            'tls.key': decoded('tls.key'),
            'ca.crt': decoded('ca.crt'),
          }),
          ...(decoded('tls.crt') ? { tlsCrt: decoded('tls.crt') } : {}),
          ...(decoded('ca.crt') ? { caCrt: decoded('ca.crt') } : {}),
        };
      }),
  };
}
