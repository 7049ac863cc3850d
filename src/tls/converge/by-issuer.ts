/**
 * `tls rotate --issuer`: after a CA rotation, the databases an issuer issues for whose certificates
 * its current CA did not sign. Re-running after an interrupt selects only what is still on the old CA,
 * so the selection itself is resumable. The CA Secret is read like `tls status` reads it (public
 * certificates only; the key never leaves the reader).
 */
import { CliError, ExitCode } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Writer } from '../../kube/request-log.ts';
import { Resources } from '../../kube/resources.ts';
import { tlsCertificates } from '../../kubedb/naming.ts';
import type { Issuer, Secret, Singlestore } from '../../kubedb/types.ts';
import { caLineage, caSecretOf, invalidIssuerRef, issuerType, signedBy } from '../ca.ts';
import { readCaSecrets } from '../gather.ts';

export interface IssuerSelection {
  name: string;
  cluster: boolean;
  /** Every database of the issuer, also those its current CA signed. */
  includeCurrent: boolean;
  /** cert-manager's --cluster-resource-namespace, for a ClusterIssuer's CA Secret. */
  clusterResourceNamespace: string;
}

export async function selectByIssuer(
  client: KubeClient,
  selection: { databases: Singlestore[]; issuer: IssuerSelection; err: Writer },
): Promise<Singlestore[]> {
  const { issuer } = selection;
  const kind = issuer.cluster ? 'ClusterIssuer' : 'Issuer';
  const mine = selection.databases.filter((db) => {
    const ref = db.spec?.tls?.issuerRef;
    return (
      ref !== undefined &&
      invalidIssuerRef(ref) === undefined &&
      ref.name === issuer.name &&
      (ref.kind === 'ClusterIssuer') === issuer.cluster
    );
  });
  if (issuer.includeCurrent || mine.length === 0) return mine;
  // One CA per issuer object: one ClusterIssuer, or an Issuer of that name per namespace.
  const namespaces = issuer.cluster ? [''] : [...new Set(mine.map((db) => db.metadata.namespace ?? ''))];
  const signers = new Map<string, ReturnType<typeof caLineage>>();
  for (const namespace of namespaces) {
    const object = issuer.cluster ? `ClusterIssuer ${issuer.name}` : `Issuer ${namespace}/${issuer.name}`;
    const found = await client.find<Issuer>(
      issuer.cluster ? Resources.clusterIssuer : Resources.issuer,
      issuer.cluster ? undefined : namespace,
      issuer.name,
    );
    if (!found) throw new CliError(`${object} not found`, ExitCode.runtime);
    const where = caSecretOf(found, { cluster: issuer.cluster, namespace }, issuer.clusterResourceNamespace);
    if (!where)
      throw new CliError(
        `${object} is of type ${issuerType(found)}: it has no CA Secret to compare with; pass --include-current to rotate all of its databases`,
        ExitCode.runtime,
      );
    const [read] = await readCaSecrets(client, [where]);
    if (!read?.ok)
      throw new CliError(
        `cannot read the CA of ${object}, Secret ${where.namespace}/${where.name}: ${read?.reason === 'forbidden' ? 'forbidden (bind the kubectl-singlestore-ca-check role of docs/rbac.yaml)' : read?.message}; or pass --include-current to rotate all of its databases`,
        ExitCode.runtime,
      );
    const lineage = caLineage(read.pems);
    if (typeof lineage === 'string')
      throw new CliError(`${object}, Secret ${where.namespace}/${where.name}: ${lineage}`, ExitCode.runtime);
    signers.set(namespace, lineage);
  }
  const chosen: Singlestore[] = [];
  await Promise.all(
    mine.map(async (db) => {
      const namespace = db.metadata.namespace ?? '';
      const lineage = signers.get(issuer.cluster ? '' : namespace);
      if (!lineage || typeof lineage === 'string') return;
      const secrets = await Promise.all(
        tlsCertificates(db.metadata.name, db.spec?.tls?.certificates).map((entry) =>
          client.find<Secret>(Resources.secret, namespace, entry.secret),
        ),
      );
      const onOldCa = secrets.some((secret) => {
        const pem = secret?.data?.['tls.crt'];
        return !pem || !signedBy(Buffer.from(pem, 'base64').toString('utf8'), lineage.signer);
      });
      if (onOldCa) chosen.push(db);
    }),
  );
  selection.err(
    `${kind} ${issuer.name}: ${chosen.length} of ${mine.length} database(s) hold certificates its current CA did not sign${chosen.length < mine.length ? ' (--include-current for all)' : ''}.\n`,
  );
  return chosen;
}
