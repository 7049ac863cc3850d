import { writeFileSync } from 'node:fs';
import { buildInfo } from '../../../build-info.ts';
import type { CommandDefinition } from '../../../cli/command.ts';
import { contextsFlags, selectedContexts } from '../../../cli/contexts.ts';
import { type ParsedArgs, probeFlags } from '../../../cli/flags.ts';
import { warnWithinOption } from '../../../cli/options.ts';
import { probeSetting } from '../../../cli/validate.ts';
import { UsageError } from '../../../errors.ts';
import { namePositional, selectionFlags, selectionOf } from '../selection.ts';
import type { ReportOptions } from './report.ts';

const warnWithin = warnWithinOption(
  'Expiry closer than this is a warning (Go duration or days, e.g. 720h, 30d)',
);

export const reportCommand: CommandDefinition = {
  name: 'report',
  describe: 'Write one redacted archive for support: the status and every object on the TLS path',
  positionals: [namePositional],
  flags: [
    ...selectionFlags('Report databases in every namespace'),
    {
      name: 'file',
      type: 'string',
      describe: 'Archive to write (default: singlestore-tls-report-<context or "contexts">-<time>.tar.gz)',
      complete: { kind: 'files' },
    },
    {
      name: 'redact-names',
      type: 'boolean',
      describe: 'Replace namespaces and object names with stable pseudonyms everywhere',
    },
    warnWithin.spec,
    ...probeFlags(),
    ...contextsFlags,
  ],
  examples: [
    ['$0 tls report sample-sdb -n demo', 'one archive about one database, to send to support'],
    ['$0 tls report -A --redact-names --file tls.tar.gz', 'every database, names replaced by pseudonyms'],
  ],
  run: async (argv, context) => {
    const contexts = await selectedContexts(argv, context.io.env);
    const { contextSection, runReport, runReportAcrossContexts } = await import('./report.ts');
    const now = context.now();
    const archive = {
      out: context.io.out,
      err: context.io.err,
      now,
      writeFile: (path: string, data: Buffer) => writeFileSync(path, data, { mode: 0o600 }),
    };
    const sectionDeps = async (argv: ParsedArgs) => {
      const factory = await context.factory(argv);
      return {
        options: reportOptions(argv, factory.namespace),
        deps: {
          client: factory.client,
          interrupt: context.io.signal,
          now,
          commandName: context.displayName,
          contextName: factory.connection.contextName,
          pluginVersion: `${buildInfo.version} (${buildInfo.gitCommit})`,
        },
      };
    };
    if (!contexts) {
      const { options, deps } = await sectionDeps(argv);
      return runReport(options, { ...deps, ...archive });
    }
    return runReportAcrossContexts(contexts, reportOptions(argv, ''), {
      ...archive,
      sectionFor: async (name, progress) => {
        // Each context's own namespace without -n, as with --context NAME alone.
        const { options, deps } = await sectionDeps({ ...argv, context: name });
        return contextSection(options, { ...deps, progress });
      },
    });
  },
};

export function reportOptions(argv: Record<string, unknown>, namespace: string): ReportOptions {
  const { name, allNamespaces, labelSelector } = selectionOf(argv);
  const file = typeof argv.file === 'string' && argv.file !== '' ? argv.file : undefined;
  if (file !== undefined && !file.endsWith('.tar.gz') && !file.endsWith('.tgz')) {
    throw new UsageError('--file: the archive is a gzip-compressed tar; name it *.tar.gz or *.tgz');
  }
  // The probe is part of what support needs: on unless --probe=false.
  const probe = probeSetting(argv, true);
  return {
    ...(name ? { name } : {}),
    namespace,
    allNamespaces,
    ...(labelSelector ? { labelSelector } : {}),
    ...(file ? { file } : {}),
    redactNames: argv['redact-names'] === true,
    warnWithinMs: warnWithin.read(argv),
    ...(probe ? { probe } : {}),
  };
}
