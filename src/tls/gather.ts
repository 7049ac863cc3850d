/**
 * Gather: every API call `tls status` makes, and nothing else; what it costs follows the selected
 * databases, not the cluster. One database is read by name (read-one.ts: two rounds of parallel
 * requests, whatever its namespace holds); many by one paged LIST per kind (read-many.ts: the same
 * requests for 10 or 1,000 databases, each page reduced to the selected databases' objects). The
 * issuers' CA Secrets and the wire probe follow, once their inputs are known.
 * A kind that cannot be read (forbidden, not served) becomes data, not an abort.
 * TLS Secrets are reduced to their facts here, so key material never leaves this module.
 */
import { ApiError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { Resources } from '../kube/resources.ts';
import { governingServiceName, tlsCertificates } from '../kubedb/naming.ts';
import type { Issuer, Pod, Secret, Singlestore } from '../kubedb/types.ts';
import { type CaPems, caSecretOf, defaultClusterResourceNamespace } from './ca.ts';
import { type PodProbe, type ProbeOptions, type ProbeTarget, probePods } from './probe.ts';
import { readMany } from './read-many.ts';
import { readDatabase } from './read-one.ts';
import { keyOf, type Listed, type Reads } from './reads.ts';
import { inspectTlsData, type SecretFacts } from './x509.ts';

export type { CertificateRequest, KubeEvent, Listed } from './reads.ts';

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

/** What was read, with the Secrets reduced to facts, and what follows from it. */
export interface Snapshot extends Omit<Reads, 'secrets'> {
  scope: Scope;
  secrets: Listed<SecretSummary>;
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

export async function gather(
  client: KubeClient,
  scope: Scope,
  options: GatherOptions = {},
): Promise<Snapshot> {
  const reads =
    scope.name && scope.namespace !== undefined
      ? await readDatabase(client, { namespace: scope.namespace, name: scope.name })
      : await readMany(client, scope);
  const clusterResourceNamespace = options.clusterResourceNamespace ?? defaultClusterResourceNamespace;
  const { singlestores, issuers, clusterIssuers, secrets } = reads;
  // One GET per CA-type issuer in use, whatever the number of databases; the probe meanwhile.
  const [caSecrets, wire] = await Promise.all([
    options.caFile
      ? Promise.resolve([])
      : readCaSecrets(
          client,
          caSecretsInUse({ dbs: singlestores, issuers, clusterIssuers, clusterResourceNamespace }),
        ),
    options.probe
      ? probePods(client, probeTargets(singlestores, reads.pods, secrets), options.probe)
      : Promise.resolve(undefined),
  ]);
  return {
    scope,
    ...reads,
    secrets: summarizeSecrets(secrets),
    clusterResourceNamespace,
    caSecrets,
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(wire ? { wire } : {}),
  };
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
    (secrets.ok ? secrets.items : []).map((secret) => [keyOf(secret), secret.data ?? {}]),
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

/** The Secrets the selected databases refer to (the reads keep no other), as facts. */
function summarizeSecrets(secrets: Listed<Secret>): Listed<SecretSummary> {
  if (!secrets.ok) return secrets;
  return {
    ok: true,
    items: secrets.items.map((secret) => {
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
