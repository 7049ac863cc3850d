/**
 * `tls client-cert`: a cert-manager Certificate for one database user, issued by the database's own
 * issuer, then its files written for the user (or left in the Secret). Plan from what exists (the
 * Certificate, the files), then act; a re-run with the same settings changes nothing, a re-run after a
 * renewal refreshes the files. Also lists and deletes the client certificates of a database.
 */
import path from 'node:path';
import { CliError, ExitCode } from '../../../errors.ts';
import { type DryRun, dryRunNote, type KubeClient } from '../../../kube/client.ts';
import { findCondition } from '../../../kube/objects.ts';
import { Resources } from '../../../kube/resources.ts';
import type { Certificate, Secret } from '../../../kubedb/types.ts';
import { type DataFormat, renderData } from '../../../output/formats.ts';
import { createProgress, type ProgressMode } from '../../../output/progress.ts';
import { formatTable } from '../../../output/table.ts';
import {
  certificateIdentity,
  checkWritableFolder,
  FileRefusal,
  type OutputFile,
  readOnDisk,
  syncFiles,
} from '../../../tls/cert-files.ts';
import {
  clientCertificate,
  clientCertificateComponent,
  clientCertificateName,
  clientCertificateSelector,
  subjectOneLine,
  userOf,
} from '../../../tls/client-certs.ts';
import { certificatesStep, deadlineFrom, decodeTls, secretsStep, waitFor } from '../../../tls/wait.ts';
import type { ActionDeps } from '../action-deps.ts';
import { tlsDatabase } from '../database.ts';

export const clientCertApiVersion = 'singlestore.tls.kubedb.com/v1';

export interface IssueAction {
  kind: 'issue';
  user: string;
  organizations: string[];
  duration?: string;
  /** The folder for ca.crt, tls.crt and tls.key; absent with --secret-only. */
  out?: string;
  overwrite: boolean;
  dryRun: DryRun;
  output?: DataFormat;
  timeoutMs: number;
  progress: ProgressMode;
}

export type ClientCertAction =
  | IssueAction
  | { kind: 'list'; output?: DataFormat }
  | { kind: 'delete'; user: string; dryRun: DryRun };

export interface ClientCertOptions {
  name: string;
  namespace: string;
  action: ClientCertAction;
}

export const fileNames = ['ca.crt', 'tls.crt', 'tls.key'] as const;

function refuse(message: string): CliError {
  return new CliError(message, ExitCode.runtime);
}

export async function runClientCert(options: ClientCertOptions, deps: ActionDeps): Promise<number> {
  if (!(await deps.client.serves(Resources.certificate)))
    throw refuse(
      'cert-manager is not installed (certificates.cert-manager.io is not served): install it first, https://cert-manager.io/docs/installation/',
    );
  const { action } = options;
  if (action.kind === 'list') return list(options, action.output, deps);
  if (action.kind === 'delete') return remove(options, action, deps);
  return issue(options, action, deps);
}

function isOurs(certificate: Certificate, database: string): boolean {
  const labels = certificate.metadata.labels ?? {};
  return (
    labels['app.kubernetes.io/managed-by'] === 'kubectl-singlestore' &&
    labels['app.kubernetes.io/component'] === clientCertificateComponent &&
    labels['app.kubernetes.io/instance'] === database
  );
}

/** The settings this command owns, compared field by field; the names of those that differ. */
function differences(existing: Certificate, desired: Certificate): string[] {
  const pick = (certificate: Certificate) => ({
    commonName: certificate.spec.commonName,
    organizations: JSON.stringify(
      (certificate.spec.subject as { organizations?: string[] })?.organizations ?? [],
    ),
    duration: certificate.spec.duration ?? '',
    issuer: `${certificate.spec.issuerRef.kind}/${certificate.spec.issuerRef.name}`,
    usages: JSON.stringify(certificate.spec.usages ?? []),
  });
  const a = pick(existing);
  const b = pick(desired);
  return (Object.keys(a) as (keyof typeof a)[]).filter((key) => a[key] !== b[key]);
}

async function issue(options: ClientCertOptions, action: IssueAction, deps: ActionDeps): Promise<number> {
  const { client } = deps;
  const { namespace, name } = options;
  const db = await tlsDatabase(client, { namespace, name, commandName: deps.commandName });
  const desired = clientCertificate({
    database: db,
    user: action.user,
    organizations: action.organizations,
    ...(action.duration ? { duration: action.duration } : {}),
  });
  const certName = desired.metadata.name;
  const object = `Certificate ${namespace}/${certName}`;
  const dry = action.dryRun !== 'none';
  const dryNote = dryRunNote(action.dryRun);
  const say = (line: string) => (action.output ? deps.err : deps.out)(`${line}\n`);
  const expectedSubject = subjectOneLine({ user: action.user, organizations: action.organizations });

  // Preflight, before any write: the folder, the files already there, the Certificate already there.
  if (action.out) preflightFolder(action.out, expectedSubject, action.overwrite);
  const existing = await client.find<Certificate>(Resources.certificate, namespace, certName);
  if (existing && !isOurs(existing, name))
    throw refuse(`${object} exists and was not made by this tool for ${name}: not touching it`);
  const changed = existing ? differences(existing, desired) : [];
  if (existing && changed.length && !action.overwrite)
    throw refuse(
      `${object} for user "${action.user}" exists with other settings (${changed.join(', ')}); pass --overwrite to change them`,
    );

  let certificate: Certificate;
  if (!existing) {
    if (action.dryRun === 'client') {
      if (action.output) deps.out(renderData(desired, action.output));
      say(`would create ${object} for user "${action.user}"${dryNote}`);
      return ExitCode.ok;
    }
    certificate = await client.create<Certificate>(Resources.certificate, namespace, desired, action.dryRun);
    say(`created ${object} for user "${action.user}"${dryNote}`);
  } else if (changed.length) {
    // A merge patch removes a field only when told to: settings dropped since are sent as null.
    const patch = {
      spec: { subject: null, duration: null, ...desired.spec },
    };
    if (action.dryRun === 'client') {
      if (action.output)
        deps.out(renderData({ ...existing, spec: { ...existing.spec, ...desired.spec } }, action.output));
      say(`would update ${object} (${changed.join(', ')})${dryNote}`);
      return ExitCode.ok;
    }
    certificate = await client.patch<Certificate>(
      Resources.certificate,
      { namespace, name: certName },
      patch,
      {
        dryRun: action.dryRun,
      },
    );
    say(`updated ${object} (${changed.join(', ')})${dryNote}`);
  } else {
    certificate = existing;
    say(`${object} for user "${action.user}" exists with these settings`);
  }
  if (dry) {
    if (action.output) deps.out(renderData(certificate, action.output));
    return ExitCode.ok;
  }

  const progress = createProgress(action.progress, deps.err);
  const { deadline, timeoutText } = deadlineFrom(action.timeoutMs);
  const context = { client, progress, interrupt: deps.interrupt, deadline, timeoutText };
  const [issued] = await waitFor(context, certificatesStep(namespace, [certName]));
  await waitFor(context, secretsStep(namespace, [certName]));
  const secret = await client.get<Secret>(Resources.secret, namespace, certName);
  await ownSecret(client, secret, certificate);
  if (action.output) deps.out(renderData(issued ?? certificate, action.output));

  if (!action.out) {
    say(`the certificate is in Secret ${namespace}/${certName} (ca.crt, tls.crt, tls.key)`);
    return ExitCode.ok;
  }
  const data = decodeTls(secret);
  const files: OutputFile[] = fileNames.map((file) => ({
    name: file,
    content: data[file] ?? '',
    mode: file === 'tls.key' ? 0o600 : 0o644,
  }));
  const identity = certificateIdentity(data['tls.crt'] ?? '');
  const done = syncFiles({
    dir: action.out,
    files,
    certificateFile: 'tls.crt',
    ...(identity ? { identity: { subject: identity.subject } } : {}),
    overwrite: action.overwrite,
    label: action.out,
  });
  if (done === 'unchanged') {
    say(`${path.join(action.out, '{ca.crt,tls.crt,tls.key}')} are up to date: nothing to write`);
    return ExitCode.ok;
  }
  const verb = done === 'refresh' ? 'refreshed' : 'wrote';
  const keyNote =
    process.platform === 'win32'
      ? `; ${path.join(action.out, 'tls.key')} is the private key: keep that folder readable by you only`
      : ' (tls.key mode 0600)';
  say(`${verb} ca.crt, tls.crt, tls.key in ${action.out}${keyNote}`);
  return ExitCode.ok;
}

/** Files already in the folder must be this user's certificate files, unless --overwrite. */
function preflightFolder(dir: string, expectedSubject: string, overwrite: boolean): void {
  checkWritableFolder(dir);
  if (overwrite) return;
  const onDisk = readOnDisk(dir, [...fileNames]);
  const present = fileNames.filter((file) => onDisk[file] !== undefined);
  if (present.length === 0) return;
  const identity = certificateIdentity(onDisk['tls.crt'] ?? '');
  const subject = identity ? subjectOneLine({ x509Subject: identity.subject }) : undefined;
  if (subject !== expectedSubject)
    throw new FileRefusal(
      `${dir}: ${present.join(', ')} already exist${subject ? ` (a certificate for ${subject})` : ''}; pass --overwrite to replace them, or choose another --out`,
    );
}

/**
 * cert-manager does not delete a Secret with its Certificate (unless run with
 * --enable-certificate-owner-ref): the Secret gets the Singlestore as owner too, so both go with it.
 */
async function ownSecret(client: KubeClient, secret: Secret, certificate: Certificate): Promise<void> {
  const owners = secret.metadata.ownerReferences ?? [];
  const [owner] = certificate.metadata.ownerReferences ?? [];
  if (!owner || owners.some((ref) => ref.uid === owner.uid)) return;
  await client.patch<Secret>(
    Resources.secret,
    { namespace: secret.metadata.namespace, name: secret.metadata.name },
    {
      metadata: { ownerReferences: [...owners, owner], resourceVersion: secret.metadata.resourceVersion },
    },
  );
}

export interface ClientCertificateEntry {
  user: string;
  certificate: string;
  secret: string;
  ready: boolean;
  notAfter?: string;
  renewalTime?: string;
}

async function list(
  options: ClientCertOptions,
  output: DataFormat | undefined,
  deps: ActionDeps,
): Promise<number> {
  const { namespace, name } = options;
  await tlsDatabase(deps.client, { namespace, name, commandName: deps.commandName });
  const certificates = await deps.client.list<Certificate>(Resources.certificate, {
    namespace,
    labelSelector: clientCertificateSelector(name),
  });
  const items: ClientCertificateEntry[] = certificates.items
    .map((certificate) => ({
      user: userOf(certificate) ?? '',
      certificate: certificate.metadata.name,
      secret: certificate.spec.secretName,
      ready: findCondition(certificate.status?.conditions, 'Ready')?.status === 'True',
      ...(certificate.status?.notAfter ? { notAfter: certificate.status.notAfter } : {}),
      ...(certificate.status?.renewalTime ? { renewalTime: certificate.status.renewalTime } : {}),
    }))
    .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  if (output) {
    deps.out(
      renderData(
        { apiVersion: clientCertApiVersion, kind: 'ClientCertificateList', namespace, database: name, items },
        output,
      ),
    );
    return ExitCode.ok;
  }
  if (items.length === 0) {
    deps.err(`No client certificates for Singlestore ${namespace}/${name}.\n`);
    return ExitCode.ok;
  }
  deps.out(
    formatTable(
      ['USER', 'CERTIFICATE', 'READY', 'NOT AFTER'],
      items.map((item) => [item.user, item.certificate, item.ready ? 'True' : 'False', item.notAfter ?? '-']),
    ),
  );
  return ExitCode.ok;
}

async function remove(
  options: ClientCertOptions,
  action: { user: string; dryRun: DryRun },
  deps: ActionDeps,
): Promise<number> {
  const { client } = deps;
  const { namespace, name } = options;
  const certName = clientCertificateName(name, action.user);
  const dryNote = dryRunNote(action.dryRun);
  const existing = await client.find<Certificate>(Resources.certificate, namespace, certName);
  if (!existing) {
    await tlsDatabase(client, { namespace, name, commandName: deps.commandName });
    deps.out(`no client certificate for user "${action.user}" of ${namespace}/${name}: nothing to delete\n`);
    return ExitCode.ok;
  }
  if (!isOurs(existing, name))
    throw refuse(
      `Certificate ${namespace}/${certName} was not made by this tool for ${name}: not deleting it`,
    );
  if (action.dryRun !== 'client') {
    await client.delete(Resources.certificate, namespace, certName, { dryRun: action.dryRun });
    const secret = await client.find<Secret>(Resources.secret, namespace, existing.spec.secretName);
    if (secret && userOf(secret) === action.user)
      await client.delete(Resources.secret, namespace, existing.spec.secretName, { dryRun: action.dryRun });
  }
  deps.out(
    `deleted Certificate ${namespace}/${certName} and its Secret (user "${action.user}")${dryNote}; files written earlier stay where they are\n`,
  );
  return ExitCode.ok;
}
