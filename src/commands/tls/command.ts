import type { CommandDefinition } from '../../cli/command.ts';
import { caCommand } from './ca/command.ts';
import { clientCertCommand } from './client-cert/command.ts';
import { connectInfoCommand } from './connect-info/command.ts';
import { disableCommand } from './disable/command.ts';
import { enableCommand } from './enable/command.ts';
import { reportCommand } from './report/command.ts';
import { rotateCommand } from './rotate/command.ts';
import { statusCommand } from './status/command.ts';

export const tlsCommand: CommandDefinition = {
  name: 'tls',
  describe: 'Turn on, check and rotate TLS for Singlestore databases, and connect to them with it',
  examples: [
    ['$0 tls status -A', 'is TLS healthy everywhere? The first broken step of each database'],
    ['$0 tls enable sample-sdb -n demo --issuer sdb-issuer --wait', 'turn TLS on with a cert-manager Issuer'],
    ['$0 tls rotate sample-sdb -n demo', 'new certificates, loaded by the pods, verified'],
    [
      '$0 tls client-cert sample-sdb -n demo --db-user app --out ./app-certs',
      'a client certificate for a database user',
    ],
  ],
  subcommands: [
    statusCommand,
    enableCommand,
    rotateCommand,
    disableCommand,
    clientCertCommand,
    caCommand,
    connectInfoCommand,
    reportCommand,
  ],
};
