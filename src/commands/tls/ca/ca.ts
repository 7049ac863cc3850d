/**
 * `tls ca`: the PEM bundle a client should trust to verify the database. The CA that signed the
 * server certificate (its Secret's ca.crt) and, for a CA Issuer, the CA the issuer signs with now
 * (its `spec.ca.secretName`). They differ during a CA rotation (cert-manager re-issues nothing when
 * the CA Secret is replaced, cert-manager#5851): then the bundle holds both, old first, with a note,
 * until every certificate is re-issued by the new CA.
 */
import type { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { ApiError, CliError, ExitCode } from '../../../errors.ts';
import type { KubeClient } from '../../../kube/client.ts';
import { Resources } from '../../../kube/resources.ts';
import type { Issuer, Secret } from '../../../kubedb/types.ts';
import { distinctCertificates, readOnDisk, syncFiles } from '../../../tls/cert-files.ts';
import { decodeTls } from '../../../tls/wait.ts';
import type { ActionDeps } from '../action-deps.ts';
import { aliasSecret, type TlsDatabase, tlsDatabase } from '../database.ts';

export interface CaOptions {
  name: string;
  namespace: string;
  /** A file to write; absent: stdout. */
  out?: string;
  overwrite: boolean;
}

export interface CaBundle {
  pem: string;
  certificates: X509Certificate[];
  /** Said on stderr: why the bundle holds more than one CA, or what could not be read. */
  notes: string[];
}

export async function runCa(options: CaOptions, deps: ActionDeps): Promise<number> {
  const db = await tlsDatabase(deps.client, {
    namespace: options.namespace,
    name: options.name,
    commandName: deps.commandName,
  });
  const bundle = await caBundle(deps.client, db, deps.commandName);
  for (const note of bundle.notes) deps.err(`note: ${note}\n`);
  if (!options.out) {
    deps.out(bundle.pem);
    return ExitCode.ok;
  }
  const dir = path.dirname(options.out);
  const file = path.basename(options.out);
  const existing = readOnDisk(dir, [file])[file];
  const isBundle = existing !== undefined && safeCount(existing) > 0;
  const done = syncFiles({
    dir,
    files: [{ name: file, content: bundle.pem, mode: 0o644 }],
    overwrite: options.overwrite || isBundle,
    label: options.out,
  });
  deps.err(
    done === 'unchanged'
      ? `${options.out} is up to date: nothing to write\n`
      : `${done === 'new' ? 'wrote' : 'refreshed'} ${options.out} (${bundle.certificates.length} CA certificate(s))\n`,
  );
  return ExitCode.ok;
}

function safeCount(pem: string): number {
  try {
    return distinctCertificates([pem]).length;
  } catch {
    return 0;
  }
}

export async function caBundle(client: KubeClient, db: TlsDatabase, commandName: string): Promise<CaBundle> {
  const namespace = db.metadata.namespace ?? '';
  const notes: string[] = [];
  const serverSecret = aliasSecret(db, 'server');
  const secret = await client.find<Secret>(Resources.secret, namespace, serverSecret);
  const leafCa = secret ? (decodeTls(secret)['ca.crt'] ?? '') : '';
  if (!secret)
    notes.push(`Secret ${namespace}/${serverSecret} does not exist yet: is the server certificate issued?`);
  const issuerCa = await currentIssuerCa(client, db, notes);
  const certificates = distinctCertificates([leafCa, issuerCa ?? '']);
  if (certificates.length === 0)
    throw new CliError(
      `no CA certificate found for Singlestore ${namespace}/${db.metadata.name} (ca.crt of ${serverSecret} is empty and the issuer's CA could not be read)`,
      ExitCode.runtime,
    );
  if (
    issuerCa !== undefined &&
    leafCa &&
    distinctCertificates([leafCa, issuerCa]).length > distinctCertificates([leafCa]).length
  )
    notes.push(
      `the issuer now signs with another CA than the one in ${serverSecret}'s ca.crt (a CA rotation): the bundle holds the old and the new CA. Once \`${commandName} tls rotate ${db.metadata.name} -n ${namespace}\` has re-issued every certificate, run this again to drop the old one`,
    );
  return {
    certificates,
    pem: certificates
      .map((certificate) => certificate.toString().trim())
      .join('\n')
      .concat('\n'),
    notes,
  };
}

/** The CA a CA Issuer signs with now (`spec.ca.secretName` in the database namespace), when readable. */
async function currentIssuerCa(
  client: KubeClient,
  db: TlsDatabase,
  notes: string[],
): Promise<string | undefined> {
  const ref = db.spec.tls.issuerRef;
  if (ref.kind === 'ClusterIssuer') return undefined;
  const namespace = db.metadata.namespace ?? '';
  try {
    const issuer = await client.find<Issuer>(Resources.issuer, namespace, ref.name);
    const secretName = (issuer?.spec?.ca as { secretName?: string } | undefined)?.secretName;
    if (!secretName) return undefined;
    const secret = await client.find<Secret>(Resources.secret, namespace, secretName);
    return secret ? decodeTls(secret)['tls.crt'] : undefined;
  } catch (error) {
    if (error instanceof ApiError && error.isForbidden) {
      notes.push(
        `the issuer's CA was not read (${error.message}): the bundle is the ca.crt of the server certificate`,
      );
      return undefined;
    }
    throw error;
  }
}
