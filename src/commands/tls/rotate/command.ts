import type { CommandDefinition } from '../../../cli/command.ts';
import {
  clusterResourceNamespaceFlag,
  type ParsedArgs,
  probeFlags,
  progressFlag,
  progressMode,
} from '../../../cli/flags.ts';
import {
  concurrencyOption,
  dryRunOption,
  methodOption,
  timeoutOption,
  waitOption,
} from '../../../cli/options.ts';
import { probeSetting, validateObjectName } from '../../../cli/validate.ts';
import { UsageError } from '../../../errors.ts';
import { actionDeps } from '../action-deps.ts';
import type { RotateOptions } from './rotate.ts';

const method = methodOption(
  ['auto', 'ops-request', 'cert-manager'] as const,
  'auto: an ops request where KubeDB runs, else cert-manager renewal',
);
const restartWith = ['auto', 'ops-request', 'annotation'] as const;
const wait = waitOption(
  'Wait for new certificates, the rollout and a healthy status (default: on for one database)',
  (argv) => typeof argv.name === 'string',
);
const timeout = timeoutOption('How long the wait may take (Go duration)');
const dryRun = dryRunOption('none, client (print, send nothing) or server');
const concurrency = concurrencyOption('Databases rotated at once with --all');

export const rotateCommand: CommandDefinition = {
  name: 'rotate',
  describe: 'Re-issue the certificates, roll the pods so they load them, and verify',
  positionals: [
    {
      name: 'name',
      describe: 'Singlestore name (or --all)',
      required: false,
      complete: { kind: 'singlestores' },
    },
  ],
  flags: [
    {
      name: 'all',
      type: 'boolean',
      describe: 'Every TLS-enabled database in the namespace (with -A: everywhere)',
    },
    {
      name: 'issuer',
      type: 'string',
      describe:
        'After a CA rotation: the TLS databases of this Issuer (in the namespace; with -A in every one) whose certificates its current CA did not sign',
      complete: { kind: 'issuers' },
    },
    { name: 'cluster-issuer', type: 'boolean', describe: '--issuer names a ClusterIssuer' },
    {
      name: 'include-current',
      type: 'boolean',
      describe: "With --issuer: every one of the issuer's databases, also those its current CA signed",
    },
    clusterResourceNamespaceFlag,
    {
      name: 'all-namespaces',
      alias: 'A',
      type: 'boolean',
      describe: 'With --all or --issuer: every namespace',
    },
    {
      name: 'selector',
      alias: 'l',
      type: 'string',
      describe: 'With --all: only Singlestores matching this label selector',
    },
    method.spec,
    {
      name: 'restart-only',
      type: 'boolean',
      describe: 'Do not re-issue: roll the pods so they load the certificates already in the Secrets',
    },
    {
      name: 'stale-only',
      type: 'boolean',
      describe:
        'With --restart-only: restart only the pods the probe sees serving an old certificate, one at a time',
    },
    {
      name: 'no-restart',
      type: 'boolean',
      describe: 'Re-issue only; the pods keep the old certificates until they restart',
    },
    {
      name: 'restart-with',
      type: 'string',
      describe: 'auto: a Restart ops request where served, else the restartedAt annotation',
      default: 'auto',
      choices: restartWith,
      complete: { kind: 'static', values: restartWith },
    },
    wait.spec,
    timeout.spec,
    dryRun.spec,
    {
      name: 'force',
      type: 'boolean',
      describe: 'Rotate again even if a rotation of this database finished within the last hour',
    },
    {
      name: 'output',
      alias: 'o',
      type: 'string',
      describe: 'json: a result per database',
      choices: ['json'],
      complete: { kind: 'static', values: ['json'] },
    },
    concurrency.spec,
    progressFlag,
    ...probeFlags(true),
  ],
  examples: [
    ['$0 tls rotate sample-sdb -n demo', 'new certificates, pods restarted, verified'],
    ['$0 tls rotate sample-sdb --restart-only', 'pods reload the certificates already in the Secrets'],
    [
      '$0 tls rotate sample-sdb --restart-only --stale-only',
      'restart only the pods still serving an old certificate',
    ],
    [
      '$0 tls rotate --all -A -l env=prod --concurrency 5 -o json',
      'every TLS-enabled database labelled env=prod, in every namespace, a result each',
    ],
    ['$0 tls rotate sample-sdb --force', 'rotate again although a rotation finished within the hour'],
    [
      '$0 tls rotate --issuer sdb-issuer -n demo',
      "after replacing the Issuer's CA: re-issue what the old CA signed",
    ],
  ],
  run: async (argv, context) => {
    const options = rotateOptions(argv, context.io.isTTY);
    const { deps, namespace } = await actionDeps(argv, context);
    const { runRotate } = await import('./rotate.ts');
    return runRotate({ ...options, namespace }, deps);
  },
};

export function rotateOptions(argv: ParsedArgs, isTTY: boolean): Omit<RotateOptions, 'namespace'> {
  const name = typeof argv.name === 'string' ? validateObjectName(argv.name, 'Singlestore name') : undefined;
  const all = argv.all === true;
  const allNamespaces = argv['all-namespaces'] === true;
  const labelSelector = typeof argv.selector === 'string' && argv.selector !== '' ? argv.selector : undefined;
  const issuer =
    typeof argv.issuer === 'string' && argv.issuer !== ''
      ? validateObjectName(argv.issuer, '--issuer')
      : undefined;
  if (issuer && (name || all)) throw new UsageError('--issuer cannot be combined with a name or --all');
  if (!issuer && argv['cluster-issuer'] === true) throw new UsageError('--cluster-issuer goes with --issuer');
  if (!issuer && argv['include-current'] === true)
    throw new UsageError('--include-current goes with --issuer');
  if (name && all) throw new UsageError('--all cannot be combined with a name');
  if (name && allNamespaces) throw new UsageError('-A/--all-namespaces cannot be combined with a name');
  if (name && labelSelector) throw new UsageError('--selector cannot be combined with a name');
  if (!name && !all && !issuer)
    throw new UsageError(
      'name a Singlestore, or pass --all or --issuer (with -A or -l to widen or narrow it)',
    );
  if (argv['restart-only'] === true && argv['no-restart'] === true)
    throw new UsageError('--restart-only cannot be combined with --no-restart');
  const probe = probeSetting(argv, true);
  if (argv['stale-only'] === true && argv['restart-only'] !== true)
    throw new UsageError(
      '--stale-only goes with --restart-only (it restarts the pods the probe finds stale)',
    );
  if (argv['stale-only'] === true && !probe)
    throw new UsageError('--stale-only needs the probe: it cannot be combined with --probe=false');
  const methodValue = method.read(argv);
  if (argv['no-restart'] === true && methodValue === 'ops-request') {
    throw new UsageError(
      "--no-restart cannot be combined with --method ops-request: KubeDB's rotation always restarts the pods",
    );
  }
  return {
    ...(name ? { name } : {}),
    ...(issuer
      ? {
          issuer: {
            name: issuer,
            cluster: argv['cluster-issuer'] === true,
            includeCurrent: argv['include-current'] === true,
            clusterResourceNamespace: validateObjectName(
              String(argv['cluster-resource-namespace'] ?? 'cert-manager'),
              '--cluster-resource-namespace',
            ),
          },
        }
      : {}),
    allNamespaces,
    ...(labelSelector ? { labelSelector } : {}),
    method: methodValue,
    restartOnly: argv['restart-only'] === true,
    staleOnly: argv['stale-only'] === true,
    noRestart: argv['no-restart'] === true,
    restartWith: String(argv['restart-with'] ?? 'auto') as RotateOptions['restartWith'],
    wait: wait.read(argv),
    timeoutMs: timeout.read(argv),
    dryRun: dryRun.read(argv),
    force: argv.force === true,
    ...(argv.output === 'json' ? { output: 'json' as const } : {}),
    concurrency: concurrency.read(argv),
    progress: progressMode(argv, isTTY),
    ...(probe ? { probe } : {}),
  };
}
