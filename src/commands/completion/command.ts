import type { CommandDefinition } from '../../cli/command.ts';
import { UsageError } from '../../errors.ts';
import { completionScript, type Shell, shells } from './scripts.ts';

export const completionCommand: CommandDefinition = {
  name: 'completion',
  describe: 'Print a shell completion script for bash, zsh, fish or powershell',
  positionals: [
    {
      name: 'shell',
      describe: 'bash, zsh, fish or powershell',
      required: true,
      complete: { kind: 'static', values: shells },
    },
  ],
  examples: [
    ['source <($0 completion bash)', 'complete the standalone command in this bash session'],
    ['$0 completion zsh > ~/.zfunc/_kubectl-singlestore', 'install for zsh (with ~/.zfunc in fpath)'],
  ],
  run: async (argv, context) => {
    const shell = String(argv.shell);
    if (!(shells as readonly string[]).includes(shell)) {
      throw new UsageError(`unsupported shell "${shell}": choose one of ${shells.join(', ')}`);
    }
    context.io.out(completionScript(shell as Shell, 'kubectl-singlestore'));
    return 0;
  },
};
