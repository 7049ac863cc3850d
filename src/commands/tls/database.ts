/** The database a command acts on: it must exist (and, for the client commands, have TLS enabled). */
import { CliError, ExitCode } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import { tlsCertificates } from '../../kubedb/naming.ts';
import type { IssuerRef, Singlestore } from '../../kubedb/types.ts';
import { getDatabase } from '../../tls/converge/gather.ts';

export { getDatabase };

export type TlsDatabase = Singlestore & { spec: { tls: { issuerRef: IssuerRef } } };

export async function tlsDatabase(
  client: KubeClient,
  where: { namespace: string; name: string; commandName: string },
): Promise<TlsDatabase> {
  const { namespace, name } = where;
  const db = await getDatabase(client, namespace, name);
  if (!db.spec?.tls?.issuerRef)
    throw new CliError(
      `TLS is not enabled on Singlestore ${namespace}/${name}: turn it on first with \`${where.commandName} tls enable ${name} -n ${namespace} --issuer ISSUER\``,
      ExitCode.runtime,
    );
  return db as TlsDatabase;
}

/** The Secret KubeDB keeps a certificate alias in (`server`, `client`). */
export function aliasSecret(db: Singlestore, alias: string): string {
  const found = tlsCertificates(db.metadata.name, db.spec?.tls?.certificates).find(
    (entry) => entry.alias === alias,
  );
  return found?.secret ?? '';
}
