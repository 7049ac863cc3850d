import type { CommandDefinition } from '../../../cli/command.ts';
import { dryRunFlag, outputFlag, type ParsedArgs, progressFlag, progressMode } from '../../../cli/flags.ts';
import {
  parseDurationFlag,
  validateCertificateDuration,
  validateObjectName,
  validateOrganization,
  validateUser,
} from '../../../cli/validate.ts';
import { UsageError } from '../../../errors.ts';
import type { DryRun } from '../../../kube/client.ts';
import { actionDeps } from '../action-deps.ts';
import type { ClientCertAction, ClientCertOptions } from './client-cert.ts';

const formats = ['json', 'yaml'] as const;

/**
 * The database user is `--db-user`, not `--user`: `--user` is kubectl's own flag (the kubeconfig user)
 * and every command here takes it. The CloudNativePG plugin's `certificate` command prefixes its flags
 * for the same reason (`--cnpg-user`).
 */
export const dbUserFlag = {
  name: 'db-user',
  type: 'string',
  describe: 'The database user (SingleStore user name: up to 32 characters)',
} as const;

export const clientCertCommand: CommandDefinition = {
  name: 'client-cert',
  describe: 'Issue a client certificate for a database user from the database issuer, and write its files',
  positionals: [
    { name: 'name', describe: 'Singlestore name', required: true, complete: { kind: 'singlestores' } },
  ],
  flags: [
    dbUserFlag,
    {
      name: 'subject-organization',
      type: 'array',
      describe: 'Subject organization of the certificate (repeatable)',
    },
    {
      name: 'duration',
      type: 'string',
      describe: 'Certificate lifetime, a Go duration of at least 1h (e.g. 2160h)',
    },
    {
      name: 'out',
      type: 'string',
      describe: 'Folder to write ca.crt, tls.crt and tls.key (the key mode 0600)',
      complete: { kind: 'files' },
    },
    {
      name: 'secret-only',
      type: 'boolean',
      describe: 'Leave the certificate in its Secret only (for in-cluster apps)',
    },
    {
      name: 'overwrite',
      type: 'boolean',
      describe: 'Replace other files in --out, or change an existing certificate',
    },
    { name: 'list', type: 'boolean', describe: "List the database's client certificates" },
    {
      name: 'delete',
      type: 'string',
      describe: 'Delete the client certificate (and its Secret) of this user',
    },
    dryRunFlag('none, client (print, send nothing) or server (validated by the API server, not stored)'),
    outputFlag(formats, 'Print the Certificate (or, with --list, the list)'),
    {
      name: 'timeout',
      type: 'string',
      describe: 'How long to wait for the issuance (Go duration)',
      default: '2m',
    },
    progressFlag,
  ],
  examples: [
    ['$0 tls client-cert sample-sdb -n demo --db-user app --out ./app-certs', 'issue and write the files'],
    [
      '$0 tls client-cert sample-sdb --db-user app --secret-only',
      'leave it in a Secret for an in-cluster app',
    ],
    ['$0 tls client-cert sample-sdb --list', "the database's client certificates"],
    ['$0 tls client-cert sample-sdb --delete app', 'remove one'],
  ],
  run: async (argv, context) => {
    const options = clientCertOptions(argv, context.io.isTTY);
    const { deps, namespace } = await actionDeps(argv, context);
    const { runClientCert } = await import('./client-cert.ts');
    return runClientCert({ ...options, namespace }, deps);
  },
};

function text(argv: ParsedArgs, key: string): string | undefined {
  const value = argv[key];
  return typeof value === 'string' ? value : undefined;
}

/** Parse and validate every flag before anything is sent. */
export function clientCertOptions(argv: ParsedArgs, isTTY: boolean): Omit<ClientCertOptions, 'namespace'> {
  const name = validateObjectName(String(argv.name), 'Singlestore name');
  const dryRun = String(argv['dry-run'] ?? 'none') as DryRun;
  const output = text(argv, 'output') as (typeof formats)[number] | undefined;
  const user = text(argv, 'db-user');
  const remove = text(argv, 'delete');
  const listing = argv.list === true;
  const modes = [
    listing && '--list',
    remove !== undefined && '--delete',
    user !== undefined && '--db-user',
  ].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be combined`);
  if (listing) return { name, action: { kind: 'list', ...(output ? { output } : {}) } };
  if (remove !== undefined) return { name, action: { kind: 'delete', user: validateUser(remove), dryRun } };
  if (user === undefined)
    throw new UsageError(
      '--db-user is required: the database user the certificate is for (or --list, --delete USER)',
    );
  const out = text(argv, 'out');
  const secretOnly = argv['secret-only'] === true;
  if (out !== undefined && secretOnly) throw new UsageError('--out cannot be combined with --secret-only');
  if (out === '') throw new UsageError('--out: give a folder');
  if (out === undefined && !secretOnly && dryRun === 'none' && !output)
    throw new UsageError(
      'say where the certificate goes: --out DIR (files), or --secret-only (the Secret only)',
    );
  const organizations = (Array.isArray(argv['subject-organization']) ? argv['subject-organization'] : []).map(
    (value) => validateOrganization(String(value)),
  );
  const duration = text(argv, 'duration');
  const action: ClientCertAction = {
    kind: 'issue',
    user: validateUser(user),
    organizations,
    ...(duration !== undefined ? { duration: validateCertificateDuration('duration', duration) } : {}),
    ...(out !== undefined ? { out } : {}),
    overwrite: argv.overwrite === true,
    dryRun,
    ...(output ? { output } : {}),
    timeoutMs: parseDurationFlag('timeout', String(argv.timeout ?? '2m')),
    progress: progressMode(argv, isTTY),
  };
  return { name, action };
}
