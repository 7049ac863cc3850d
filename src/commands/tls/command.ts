import type { CommandDefinition } from '../../cli/command.ts';
import { enableCommand } from './enable/command.ts';
import { rotateCommand } from './rotate/command.ts';
import { statusCommand } from './status/command.ts';

export const tlsCommand: CommandDefinition = {
  name: 'tls',
  describe: 'Turn on, check and rotate TLS for Singlestore databases',
  subcommands: [statusCommand, enableCommand, rotateCommand],
};
