import type { CommandDefinition } from '../../cli/command.ts';
import { RuntimeError, UsageError } from '../../errors.ts';
import { pluginDirectoryOnPath, writeHelper } from './helper.ts';
import { completionScript, type Shell, shells } from './scripts.ts';

const targets = [...shells, 'helper'] as const;

export const completionCommand: CommandDefinition = {
  name: 'completion',
  describe:
    'Print a shell completion script for bash, zsh, fish or powershell, or write the kubectl_complete-singlestore helper that completes `kubectl singlestore`',
  positionals: [
    {
      name: 'shell',
      describe: 'bash, zsh, fish or powershell; or helper',
      required: true,
      complete: { kind: 'static', values: targets },
    },
  ],
  flags: [
    {
      name: 'dir',
      type: 'string',
      describe:
        'With helper: the folder to write kubectl_complete-singlestore into (default: where kubectl-singlestore is on PATH)',
      complete: { kind: 'files' },
    },
  ],
  examples: [
    ['$0 completion helper', 'let kubectl complete `kubectl singlestore ...` (kubectl 1.26+)'],
    ['source <($0 completion bash)', 'complete the standalone command in this bash session'],
    ['$0 completion zsh > ~/.zfunc/_kubectl-singlestore', 'install for zsh (with ~/.zfunc in fpath)'],
  ],
  run: async (argv, context) => {
    const shell = String(argv.shell);
    if (!(targets as readonly string[]).includes(shell)) {
      throw new UsageError(`unsupported shell "${shell}": choose one of ${targets.join(', ')}`);
    }
    const os = process.platform === 'win32' ? 'windows' : 'unix';
    if (shell === 'helper') {
      const folder =
        argv.dir === undefined ? pluginDirectoryOnPath(context.io.env.PATH, os) : String(argv.dir);
      if (!folder) {
        throw new UsageError('kubectl-singlestore is not on PATH: say where the helper goes with --dir');
      }
      try {
        context.io.out(`${writeHelper(folder, os)}\n`);
      } catch (error) {
        throw new RuntimeError(`cannot write the helper into ${folder}: ${(error as Error).message}`);
      }
      return 0;
    }
    if (argv.dir !== undefined) throw new UsageError('--dir goes with `completion helper` only');
    context.io.out(completionScript(shell as Shell, 'kubectl-singlestore'));
    return 0;
  },
};
