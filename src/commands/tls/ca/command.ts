import type { CommandDefinition } from '../../../cli/command.ts';
import { validateObjectName } from '../../../cli/validate.ts';
import { UsageError } from '../../../errors.ts';
import { actionDeps } from '../action-deps.ts';
import type { CaOptions } from './ca.ts';

export const caCommand: CommandDefinition = {
  name: 'ca',
  describe: 'Print the CA bundle (PEM) clients should trust to verify the database',
  positionals: [
    { name: 'name', describe: 'Singlestore name', required: true, complete: { kind: 'singlestores' } },
  ],
  flags: [
    {
      name: 'out',
      type: 'string',
      describe: 'Write the bundle to this file instead of stdout',
      complete: { kind: 'files' },
    },
    { name: 'overwrite', type: 'boolean', describe: 'Replace a file at --out that is not a PEM bundle' },
  ],
  examples: [
    ['$0 tls ca sample-sdb -n demo > ca.crt', 'the CA bundle, on stdout'],
    ['$0 tls ca sample-sdb --out ./certs/ca.crt', 'written to a file (refreshed when it changes)'],
  ],
  run: async (argv, context) => {
    const options = caOptions(argv);
    const { deps, namespace } = await actionDeps(argv, context);
    const { runCa } = await import('./ca.ts');
    return runCa({ ...options, namespace }, deps);
  },
};

export function caOptions(argv: Record<string, unknown>): Omit<CaOptions, 'namespace'> {
  const out = typeof argv.out === 'string' ? argv.out : undefined;
  if (out === '') throw new UsageError('--out: give a file name');
  return {
    name: validateObjectName(String(argv.name), 'Singlestore name'),
    ...(out ? { out } : {}),
    overwrite: argv.overwrite === true,
  };
}
