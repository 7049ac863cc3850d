/** `--contexts a,b,c` and `--all-contexts`: which kubeconfig contexts a many-cluster command covers. */
import { UsageError } from '../errors.ts';
import type { FlagSpec, ParsedArgs } from './flags.ts';

export const contextsFlags: FlagSpec[] = [
  {
    name: 'contexts',
    type: 'string',
    describe: 'Check these kubeconfig contexts (comma-separated), in parallel, one CONTEXT column',
    complete: { kind: 'contexts' },
  },
  { name: 'all-contexts', type: 'boolean', describe: 'Check every context of the kubeconfig' },
];

/** The contexts to cover, or undefined for the usual one-context command. */
export async function selectedContexts(
  argv: ParsedArgs,
  env: Record<string, string | undefined>,
): Promise<string[] | undefined> {
  const listed = typeof argv.contexts === 'string' ? argv.contexts : undefined;
  const all = argv['all-contexts'] === true;
  if (listed === undefined && !all) return undefined;
  if (listed !== undefined && all) throw new UsageError('--contexts cannot be combined with --all-contexts');
  if (typeof argv.context === 'string' && argv.context !== '') {
    throw new UsageError('--context cannot be combined with --contexts or --all-contexts');
  }
  const { connectionFlagsFrom } = await import('./flags.ts');
  const { kubeconfigFiles, loadMergedKubeconfig } = await import('../kube/kubeconfig.ts');
  const known = [
    ...loadMergedKubeconfig(kubeconfigFiles(connectionFlagsFrom(argv), { env })).contexts.keys(),
  ];
  if (all) {
    if (known.length === 0) throw new UsageError('--all-contexts: the kubeconfig defines no contexts');
    return known;
  }
  const names = [...new Set((listed ?? '').split(',').map((name) => name.trim()))].filter(Boolean);
  if (names.length === 0) throw new UsageError('--contexts: name at least one context');
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length) {
    throw new UsageError(
      `--contexts: no context named ${unknown.join(', ')} (contexts: ${known.join(', ')})`,
    );
  }
  return names;
}
