import { isIP } from 'node:net';
import type { CommandDefinition } from '../../../cli/command.ts';
import {
  clusterResourceNamespaceFlag,
  outputFlag,
  type ParsedArgs,
  probeFlags,
  progressFlag,
  progressMode,
} from '../../../cli/flags.ts';
import {
  dryRunOption,
  methodOption,
  timeoutOption,
  waitOption,
  warnWithinOption,
} from '../../../cli/options.ts';
import { probeSetting, validateObjectName } from '../../../cli/validate.ts';
import { UsageError } from '../../../errors.ts';
import { parseGoDuration } from '../../../util/duration.ts';
import { actionDeps } from '../action-deps.ts';
import type { EnableOptions } from './enable.ts';

const formats = ['json', 'yaml'] as const;
const encodings = ['PKCS1', 'PKCS8'] as const;
const method = methodOption(
  ['auto', 'ops-request', 'patch'] as const,
  'auto: an ops request when KubeDB can take one, else a patch of spec.tls',
);
const dryRun = dryRunOption(
  'none, client (print, send nothing) or server (validated by the API server, not stored)',
);
const wait = waitOption('Wait until certificates are issued, pods rolled out and tls status is OK');
const timeout = timeoutOption('How long --wait may take (Go duration)');
const warnWithin = warnWithinOption(
  "Warn when the issuer's CA expires within this (Go duration or days, e.g. 720h, 30d)",
);

export const enableCommand: CommandDefinition = {
  name: 'enable',
  describe: 'Turn TLS on for a Singlestore the supported way, after checking cert-manager and the issuer',
  positionals: [
    { name: 'name', describe: 'Singlestore name', required: true, complete: { kind: 'singlestores' } },
  ],
  flags: [
    {
      name: 'issuer',
      type: 'string',
      describe: 'The cert-manager Issuer (in the database namespace) to issue from',
      complete: { kind: 'issuers' },
    },
    { name: 'cluster-issuer', type: 'boolean', describe: '--issuer names a ClusterIssuer' },
    { name: 'dns-name', type: 'array', describe: 'Extra DNS name for the server certificate (repeatable)' },
    {
      name: 'ip-address',
      type: 'array',
      describe: 'Extra IP address for the server certificate (repeatable)',
    },
    {
      name: 'subject-organization',
      type: 'array',
      describe: 'Subject organization of the certificates (repeatable)',
    },
    { name: 'duration', type: 'string', describe: 'Certificate lifetime, a Go duration (e.g. 2160h)' },
    {
      name: 'private-key-encoding',
      type: 'string',
      describe: 'PKCS1 or PKCS8',
      choices: encodings,
      complete: { kind: 'static', values: encodings },
    },
    method.spec,
    dryRun.spec,
    outputFlag(formats, 'Print what was created or patched'),
    wait.spec,
    timeout.spec,
    warnWithin.spec,
    clusterResourceNamespaceFlag,
    {
      name: 'overwrite',
      type: 'boolean',
      describe: 'Reconfigure TLS that is already enabled with other settings',
    },
    { name: 'force', type: 'boolean', describe: 'Go on even if the issuer is not Ready' },
    progressFlag,
    ...probeFlags(true),
  ],
  examples: [
    [
      '$0 tls enable sample-sdb -n demo --issuer sdb-issuer --wait',
      'enable TLS and follow it until the database serves it',
    ],
    [
      '$0 tls enable sample-sdb --issuer ca --cluster-issuer --dry-run=client -o yaml',
      'print the ops request, send nothing',
    ],
  ],
  run: async (argv, context) => {
    const options = enableOptions(argv, context.io.isTTY);
    const { deps, namespace } = await actionDeps(argv, context);
    const { runEnable } = await import('./enable.ts');
    return runEnable({ ...options, namespace }, deps);
  },
};

const dnsName = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function strings(argv: ParsedArgs, key: string): string[] {
  const value = argv[key];
  return Array.isArray(value) ? value.map(String) : [];
}

/** Parse and validate every flag before anything is sent. */
export function enableOptions(argv: ParsedArgs, isTTY: boolean): Omit<EnableOptions, 'namespace'> {
  const name = validateObjectName(String(argv.name), 'Singlestore name');
  // --wait ends with a probe of every pod unless --probe=false.
  const probe = probeSetting(argv, true);
  const issuer = typeof argv.issuer === 'string' ? argv.issuer : '';
  if (!issuer)
    throw new UsageError(
      '--issuer is required: the cert-manager Issuer (or, with --cluster-issuer, ClusterIssuer) to use',
    );
  validateObjectName(issuer, '--issuer');
  const dnsNames = strings(argv, 'dns-name');
  for (const value of dnsNames) {
    if (value.length > 253 || !dnsName.test(value))
      throw new UsageError(`--dns-name: "${value}" is not a valid DNS name`);
  }
  const ipAddresses = strings(argv, 'ip-address');
  for (const value of ipAddresses)
    if (!isIP(value)) throw new UsageError(`--ip-address: "${value}" is not an IP address`);
  const duration = typeof argv.duration === 'string' ? argv.duration : undefined;
  if (duration !== undefined) {
    let ms: number;
    try {
      ms = parseGoDuration(duration);
    } catch (error) {
      throw new UsageError(`--duration: ${(error as Error).message}`);
    }
    if (ms < 3_600_000)
      throw new UsageError(`--duration: ${duration} is too short; cert-manager requires at least 1h`);
  }
  return {
    name,
    settings: {
      issuer,
      clusterIssuer: argv['cluster-issuer'] === true,
      dnsNames,
      ipAddresses,
      organizations: strings(argv, 'subject-organization'),
      ...(duration ? { duration } : {}),
      ...(typeof argv['private-key-encoding'] === 'string'
        ? { privateKeyEncoding: argv['private-key-encoding'] as 'PKCS1' | 'PKCS8' }
        : {}),
    },
    method: method.read(argv),
    dryRun: dryRun.read(argv),
    ...(typeof argv.output === 'string' ? { output: argv.output as (typeof formats)[number] } : {}),
    wait: wait.read(argv),
    timeoutMs: timeout.read(argv),
    overwrite: argv.overwrite === true,
    force: argv.force === true,
    warnWithinMs: warnWithin.read(argv),
    clusterResourceNamespace: validateObjectName(
      String(argv['cluster-resource-namespace'] ?? 'cert-manager'),
      '--cluster-resource-namespace',
    ),
    progress: progressMode(argv, isTTY),
    ...(probe ? { probe } : {}),
  };
}
