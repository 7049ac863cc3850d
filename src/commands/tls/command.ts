import type { CommandDefinition } from '../../cli/command.ts';
import { caCommand } from './ca/command.ts';
import { clientCertCommand } from './client-cert/command.ts';
import { connectInfoCommand } from './connect-info/command.ts';
import { enableCommand } from './enable/command.ts';
import { rotateCommand } from './rotate/command.ts';
import { statusCommand } from './status/command.ts';

export const tlsCommand: CommandDefinition = {
  name: 'tls',
  describe: 'Turn on, check and rotate TLS for Singlestore databases, and connect to them with it',
  subcommands: [
    statusCommand,
    enableCommand,
    rotateCommand,
    clientCertCommand,
    caCommand,
    connectInfoCommand,
  ],
};
