/** Which Singlestores a read-only command covers: NAME, or every one (-A) or those matching -l. */
import type { PositionalSpec } from '../../cli/command.ts';
import type { FlagSpec } from '../../cli/flags.ts';
import { validateObjectName } from '../../cli/validate.ts';
import { UsageError } from '../../errors.ts';

export const namePositional: PositionalSpec = {
  name: 'name',
  describe: 'Singlestore name (default: every one in the namespace)',
  required: false,
  complete: { kind: 'singlestores' },
};

export function selectionFlags(allNamespaces: string): FlagSpec[] {
  return [
    { name: 'all-namespaces', alias: 'A', type: 'boolean', describe: allNamespaces },
    {
      name: 'selector',
      alias: 'l',
      type: 'string',
      describe: 'Label selector for the Singlestores (e.g. env=prod)',
    },
  ];
}

export interface Selection {
  name?: string;
  allNamespaces: boolean;
  labelSelector?: string;
}

export function selectionOf(argv: Record<string, unknown>): Selection {
  const name = typeof argv.name === 'string' ? validateObjectName(argv.name, 'Singlestore name') : undefined;
  const allNamespaces = argv['all-namespaces'] === true;
  const labelSelector = typeof argv.selector === 'string' && argv.selector !== '' ? argv.selector : undefined;
  if (name && allNamespaces) throw new UsageError('a name cannot be combined with --all-namespaces');
  if (name && labelSelector) throw new UsageError('a name cannot be combined with --selector');
  return { ...(name ? { name } : {}), allNamespaces, ...(labelSelector ? { labelSelector } : {}) };
}
