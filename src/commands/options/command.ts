import type { CommandDefinition } from '../../cli/command.ts';
import { connectionFlags } from '../../cli/flags.ts';
import { helpWidth, renderGlobalOptions } from '../../cli/help.ts';

/** kubectl's `options`: the connection flags every command takes, kept off the commands' own pages. */
export const optionsCommand: CommandDefinition = {
  name: 'options',
  describe: 'Print the list of flags inherited by all commands',
  examples: [
    ['$0 options', 'the kubeconfig, context, namespace and other kubectl flags every command takes'],
  ],
  run: async (_argv, context) => {
    context.io.out(renderGlobalOptions(connectionFlags, helpWidth(context.io.columns)));
    return 0;
  },
};
