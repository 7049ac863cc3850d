import type { CommandDefinition } from '../../../cli/command.ts';
import { contextsFlags, selectedContexts } from '../../../cli/contexts.ts';
import { caFlags, outputFlag, probeFlags } from '../../../cli/flags.ts';
import { warnWithinOption } from '../../../cli/options.ts';
import { probeSetting, validateObjectName } from '../../../cli/validate.ts';
import type { StatusFormat } from '../../../tls/render.ts';
import { namePositional, selectionFlags, selectionOf } from '../selection.ts';
import type { StatusOptions } from './status.ts';

const warnWithin = warnWithinOption(
  'Expiry closer than this is a warning (Go duration or days, e.g. 720h, 30d)',
);

const formats = ['wide', 'json', 'yaml'] as const;

export const statusCommand: CommandDefinition = {
  name: 'status',
  describe:
    'Check every step of the TLS path of one database, or all of them, and name the first broken step',
  positionals: [namePositional],
  flags: [
    ...selectionFlags('Check databases in every namespace'),
    outputFlag(formats, 'Output format (default: a table, or the detailed view for one database)'),
    warnWithin.spec,
    { name: 'require-tls', type: 'boolean', describe: 'Treat a database without TLS as critical' },
    ...probeFlags(),
    ...caFlags,
    ...contextsFlags,
  ],
  examples: [
    ['$0 tls status sample-sdb -n demo', 'every step of the TLS path of one database, in depth'],
    ['$0 tls status -A', 'one row per database in every namespace; exit 1 if any has a problem'],
    ['$0 tls status -A --probe', 'also check what every pod serves on the wire (SERVED column)'],
    [
      '$0 tls status -A --contexts prod',
      'the contexts named (a,b,c), checked in parallel: one table with a CONTEXT column',
    ],
    [
      '$0 tls status -A -o json | jq \'.databases[] | select(.health != "OK")\'',
      'the unhealthy ones, for scripts',
    ],
  ],
  run: async (argv, context) => {
    const contexts = await selectedContexts(argv, context.io.env);
    if (contexts) {
      const { runStatusAcrossContexts } = await import('./contexts.ts');
      return runStatusAcrossContexts(contexts, (namespace) => statusOptions(argv, namespace), {
        factoryFor: (name) => context.factory({ ...argv, context: name }),
        out: context.io.out,
        err: context.io.err,
        interrupt: context.io.signal,
        now: context.now(),
        commandName: context.displayName,
      });
    }
    const factory = await context.factory(argv);
    const options = statusOptions(argv, factory.namespace);
    const { runStatus } = await import('./status.ts');
    return runStatus(options, {
      client: factory.client,
      out: context.io.out,
      err: context.io.err,
      interrupt: context.io.signal,
      now: context.now(),
      commandName: context.displayName,
    });
  },
};

/** Parse and validate: everything here is checked before any request is sent. */
export function statusOptions(argv: Record<string, unknown>, namespace: string): StatusOptions {
  const { name, allNamespaces, labelSelector } = selectionOf(argv);
  const output = argv.output as (typeof formats)[number] | undefined;
  const format: StatusFormat = output ?? (name ? 'detail' : 'table');
  const probe = probeSetting(argv, name !== undefined);
  return {
    ...(name ? { name } : {}),
    namespace,
    allNamespaces,
    ...(labelSelector ? { labelSelector } : {}),
    format,
    warnWithinMs: warnWithin.read(argv),
    requireTls: argv['require-tls'] === true,
    // One database is probed unless --probe=false; many only with --probe.
    ...(probe ? { probe } : {}),
    ...(typeof argv['ca-file'] === 'string' && argv['ca-file'] ? { caFile: argv['ca-file'] } : {}),
    clusterResourceNamespace: validateObjectName(
      String(argv['cluster-resource-namespace'] ?? 'cert-manager'),
      '--cluster-resource-namespace',
    ),
  };
}
