import type { CommandDefinition } from '../../../cli/command.ts';
import { outputFlag } from '../../../cli/flags.ts';
import { validateObjectName, validateUser } from '../../../cli/validate.ts';
import { UsageError } from '../../../errors.ts';
import { actionDeps } from '../action-deps.ts';
import { dbUserFlag } from '../client-cert/command.ts';
import type { ConnectInfoOptions } from './connect-info.ts';

const formats = ['json', 'yaml'] as const;

export const connectInfoCommand: CommandDefinition = {
  name: 'connect-info',
  describe:
    'Print client settings that verify the server (mariadb, mysql, Go, Python, JDBC) and the SQL to require a certificate',
  positionals: [
    { name: 'name', describe: 'Singlestore name', required: true, complete: { kind: 'singlestores' } },
  ],
  flags: [
    dbUserFlag,
    {
      name: 'out',
      type: 'string',
      describe: "Write ca.crt (and the user's tls.crt, tls.key) to this folder and use it in the settings",
      complete: { kind: 'files' },
    },
    { name: 'overwrite', type: 'boolean', describe: 'Replace other files in --out' },
    { name: 'local-port', type: 'number', describe: 'Local port of the port-forward recipe', default: 3306 },
    outputFlag(formats, 'Print the settings as data'),
  ],
  examples: [
    [
      '$0 tls connect-info sample-sdb -n demo --db-user app',
      'settings for the user app, and the SQL to require its certificate',
    ],
    [
      '$0 tls connect-info sample-sdb --db-user app --out ./app-certs -o json',
      'write the files, settings as JSON',
    ],
  ],
  run: async (argv, context) => {
    const options = connectInfoOptions(argv);
    const { deps, namespace } = await actionDeps(argv, context);
    const { runConnectInfo } = await import('./connect-info.ts');
    return runConnectInfo({ ...options, namespace }, deps);
  },
};

export function connectInfoOptions(argv: Record<string, unknown>): Omit<ConnectInfoOptions, 'namespace'> {
  const user = typeof argv['db-user'] === 'string' ? validateUser(argv['db-user']) : undefined;
  const out = typeof argv.out === 'string' ? argv.out : undefined;
  if (out === '') throw new UsageError('--out: give a folder');
  const localPort = Number(argv['local-port'] ?? 3306);
  if (!Number.isInteger(localPort) || localPort < 1 || localPort > 65535)
    throw new UsageError(`--local-port: ${argv['local-port']} is not a port (1-65535)`);
  const output = typeof argv.output === 'string' ? (argv.output as (typeof formats)[number]) : undefined;
  return {
    name: validateObjectName(String(argv.name), 'Singlestore name'),
    ...(user ? { user } : {}),
    ...(out ? { out } : {}),
    overwrite: argv.overwrite === true,
    localPort,
    ...(output ? { output } : {}),
  };
}
