import type { CommandDefinition } from '../../../cli/command.ts';
import { outputFlag, type ParsedArgs, probeFlags, progressFlag, progressMode } from '../../../cli/flags.ts';
import { dryRunOption, methodOption, timeoutOption, waitOption } from '../../../cli/options.ts';
import { probeSetting, validateObjectName } from '../../../cli/validate.ts';
import { actionDeps } from '../action-deps.ts';
import type { DisableOptions } from './disable.ts';

const formats = ['json', 'yaml'] as const;
const method = methodOption(
  ['auto', 'ops-request', 'patch'] as const,
  "auto: a ReconfigureTLS ops request (remove) where KubeDB's ops manager runs, else removing spec.tls",
);
const dryRun = dryRunOption(
  'none, client (print, send nothing) or server (validated by the API server, not stored)',
);
const wait = waitOption('Wait until the pods restarted and serve without TLS');
const timeout = timeoutOption('How long --wait may take (Go duration)');

export const disableCommand: CommandDefinition = {
  name: 'disable',
  describe: 'Turn TLS off for a Singlestore the supported way; clients that require TLS will fail',
  positionals: [
    { name: 'name', describe: 'Singlestore name', required: true, complete: { kind: 'singlestores' } },
  ],
  flags: [
    method.spec,
    dryRun.spec,
    outputFlag(formats, 'Print what was created or patched'),
    wait.spec,
    timeout.spec,
    progressFlag,
    ...probeFlags(true),
  ],
  examples: [
    [
      '$0 tls disable sample-sdb -n demo --dry-run=client',
      'print the ops request that would turn TLS off, send nothing',
    ],
    [
      '$0 tls disable sample-sdb -n demo --wait',
      'turn TLS off and follow it until every pod serves without TLS',
    ],
  ],
  run: async (argv, context) => {
    const options = disableOptions(argv, context.io.isTTY);
    const { deps, namespace } = await actionDeps(argv, context);
    const { runDisable } = await import('./disable.ts');
    return runDisable({ ...options, namespace }, deps);
  },
};

/** Parse and validate every flag before anything is read or sent. */
export function disableOptions(argv: ParsedArgs, isTTY: boolean): Omit<DisableOptions, 'namespace'> {
  const probe = probeSetting(argv, true);
  return {
    name: validateObjectName(String(argv.name), 'Singlestore name'),
    method: method.read(argv),
    dryRun: dryRun.read(argv),
    ...(typeof argv.output === 'string' ? { output: argv.output as (typeof formats)[number] } : {}),
    wait: wait.read(argv),
    timeoutMs: timeout.read(argv),
    progress: progressMode(argv, isTTY),
    ...(probe ? { probe } : {}),
  };
}
