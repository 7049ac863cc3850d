import type { CommandDefinition } from '../../cli/command.ts';
import { outputFlag } from '../../cli/flags.ts';
import { runVersion } from './version.ts';

const formats = ['json', 'yaml'] as const;

export const versionCommand: CommandDefinition = {
  name: 'version',
  describe: 'Print the plugin version and the Node.js version it embeds',
  flags: [outputFlag(formats)],
  examples: [['$0 version -o json', 'the version as JSON, for scripts']],
  run: async (argv, context) => {
    const output = (argv.output as (typeof formats)[number] | undefined) ?? 'text';
    return runVersion({ output }, context.io.out);
  },
};
