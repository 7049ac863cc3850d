/**
 * Reads what the planners look at for one database, in parallel where independent: the
 * Singlestore, its Certificates and the certificates their Secrets hold, its PetSets, its
 * ops requests (any phase), whether cert-manager and KubeDB's ops manager are installed, and the
 * issuer in use. Reads only; the one GET of a missing Singlestore is the "not found" error.
 */
import { ApiError } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import { Resources } from '../../kube/resources.ts';
import { petSetNames, tlsCertificates } from '../../kubedb/naming.ts';
import type {
  Certificate,
  IssuerRef,
  OpsRequest,
  PetSet,
  Secret,
  Singlestore,
  TlsConfig,
} from '../../kubedb/types.ts';
import { caLineage, caSecretOf } from '../ca.ts';
import { readCaSecrets } from '../gather.ts';
import { lookupIssuer } from '../issuer.ts';
import { decodeTls } from '../wait.ts';
import { inspectTlsData } from '../x509.ts';
import type { ConvergeSnapshot, IssuerState, PetSetState } from './model.ts';

/** GET the Singlestore; a missing one is an error that names it (exit 3). */
export async function getDatabase(client: KubeClient, namespace: string, name: string): Promise<Singlestore> {
  const db = await client.find<Singlestore>(Resources.singlestore, namespace, name);
  if (!db)
    throw new ApiError(
      `singlestores.kubedb.com "${name}" not found in namespace "${namespace}"`,
      404,
      'NotFound',
    );
  return db;
}

export interface GatherConvergeOptions {
  now: Date;
  /** Look up this issuer (enable: the desired one); absent: the database's own (rotate). */
  issuerRef?: IssuerRef;
  /** Read a CA issuer's Secret for the expiry lints (enable), with cert-manager's cluster resource namespace. */
  readCa?: { clusterResourceNamespace: string };
  /** Skip the issuer (disable needs none). */
  noIssuer?: boolean;
  /** The certificates of this spec.tls instead of the database's own. */
  tls?: TlsConfig;
  /**
   * Read the Certificates, Secrets and PetSets (default). A change that does not wait needs
   * none of them, and a user who may only make the change is not asked for more.
   */
  workloads?: boolean;
}

export async function gatherConverge(
  client: KubeClient,
  target: { namespace: string; name: string; db?: Singlestore },
  options: GatherConvergeOptions,
): Promise<ConvergeSnapshot> {
  const { namespace, name } = target;
  const [db, certManager, opsManager] = await Promise.all([
    target.db ?? getDatabase(client, namespace, name),
    client.serves(Resources.certificate),
    client.serves(Resources.opsRequest),
  ]);
  // The issuer first: its refusal is the one a user without it sees, before any list.
  const issuer = certManager && !options.noIssuer ? await readIssuer(client, db, options) : undefined;
  const expected = tlsCertificates(name, (options.tls ?? db.spec?.tls)?.certificates);
  const petSetList = petSetNames(name, Boolean(db.spec?.topology));
  // Lists only (the roles grant list and watch, not get, on most of these kinds).
  const workloads = options.workloads ?? true;
  const [certificates, secrets, petSets, opsRequests] = await Promise.all([
    certManager && workloads ? client.list<Certificate>(Resources.certificate, { namespace }) : undefined,
    workloads
      ? client.list<Secret>(Resources.secret, { namespace, fieldSelector: 'type=kubernetes.io/tls' })
      : undefined,
    workloads ? client.list<PetSet>(Resources.petset, { namespace }) : undefined,
    opsManager ? client.list<OpsRequest>(Resources.opsRequest, { namespace }) : undefined,
  ]);
  const byName = <T extends { metadata: { name: string } }>(items: T[] | undefined, wanted: string) =>
    items?.find((item) => item.metadata.name === wanted);
  return {
    now: options.now,
    db,
    certManager,
    opsManager,
    certificates: expected.map(({ alias, certificate: certificateName, secret: secretName }) => {
      const certificate = byName(certificates?.items, certificateName);
      const secret = byName(secrets?.items, secretName);
      const facts = secret ? inspectTlsData(decodeTls(secret)).certificate : undefined;
      return {
        alias,
        name: certificateName,
        secret: secretName,
        ...(certificate ? { certificate } : {}),
        ...(facts
          ? { issued: { serial: facts.serialNumber, notBefore: facts.notBefore, notAfter: facts.notAfter } }
          : {}),
      };
    }),
    petSets: petSetList.map((petSetName): PetSetState => {
      const petSet = byName(petSets?.items, petSetName);
      return {
        name: petSetName,
        ...(petSet ? { petSet } : {}),
      };
    }),
    opsRequests: (opsRequests?.items ?? []).filter((request) => request.spec?.databaseRef?.name === name),
    ...(issuer ? { issuer } : {}),
  };
}

async function readIssuer(
  client: KubeClient,
  db: Singlestore,
  options: GatherConvergeOptions,
): Promise<IssuerState | undefined> {
  const ref = options.issuerRef ?? db.spec?.tls?.issuerRef;
  if (!ref) return undefined;
  const namespace = db.metadata.namespace as string;
  const { cluster, issuer, ...readiness } = await lookupIssuer(client, namespace, ref);
  const state: IssuerState = {
    what: cluster ? `ClusterIssuer "${ref.name}"` : `Issuer "${ref.name}" in namespace "${namespace}"`,
    cluster,
    ...readiness,
  };
  if (!issuer || !options.readCa) return state;
  const where = caSecretOf(issuer, { cluster, namespace }, options.readCa.clusterResourceNamespace);
  if (!where) return state;
  const [read] = await readCaSecrets(client, [where]);
  // Not readable (the ca-check role is opt-in): tls status says so; enable goes on silently.
  if (!read?.ok) return state;
  const lineage = caLineage(read.pems);
  if (typeof lineage === 'string') return state;
  const notAfter = Math.min(Date.parse(lineage.signer.validTo), Date.parse(lineage.root.validTo));
  return {
    ...state,
    ca: { secret: `${where.namespace}/${where.name}`, notAfter: new Date(notAfter).toISOString() },
  };
}
