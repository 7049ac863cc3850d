import type { CommandDefinition } from '../../cli/command.ts';
import { outputFlag } from '../../cli/flags.ts';

const formats = ['json', 'yaml'] as const;

export const contextCommand: CommandDefinition = {
  name: 'context',
  describe: 'Show the cluster, user and namespace in use, and who the API server says you are',
  flags: [outputFlag(formats)],
  examples: [
    ['$0 context', 'check which cluster a command would act on'],
    ['$0 context --context prod -o json', 'the same for another context, as JSON'],
  ],
  run: async (argv, context) => {
    const output = (argv.output as (typeof formats)[number] | undefined) ?? 'text';
    const { gatherContext, renderContext } = await import('./context.ts');
    const report = await gatherContext(await context.factory(argv));
    renderContext(report, { output }, context.io.out);
    return 0;
  },
};
