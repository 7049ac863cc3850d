/**
 * `tls status --contexts a,b,c | --all-contexts`: the same status for every context, a few at a
 * time, each context's connection built exactly as with `--context` alone. A context that cannot be
 * reached or read is a result of its own; the exit code is the worst of all contexts.
 */
import { CliError, ExitCode } from '../../../errors.ts';
import type { Factory } from '../../../kube/factory.ts';
import type { Writer } from '../../../kube/request-log.ts';
import { renderData } from '../../../output/formats.ts';
import { renderContextsTable } from '../../../tls/render.ts';
import { reportApiVersion, type StatusReport } from '../../../tls/report.ts';
import { mapBounded } from '../../../util/bounded.ts';
import { type StatusOptions, statusReport } from './status.ts';

/** Contexts checked at once: enough to overlap slow clusters, few enough for a laptop's sockets. */
export const contextConcurrency = 8;

export interface ContextResult {
  context: string;
  exitCode: number;
  report?: StatusReport;
  error?: string;
}

/** The JSON of many contexts (src/tls/contexts.schema.json); `report` is the one-context report. */
export interface MultiContextReport {
  apiVersion: typeof reportApiVersion;
  kind: 'TLSStatusMultiContextReport';
  generatedAt: string;
  contexts: ContextResult[];
  summary: { contexts: number; ok: number; findings: number; failed: number; exitCode: number };
}

export interface MultiStatusDeps {
  /** The connection of one context, as `--context NAME` would build it. */
  factoryFor(context: string): Promise<Factory>;
  out: Writer;
  err: Writer;
  interrupt: AbortSignal;
  now: Date;
  commandName: string;
}

export async function runStatusAcrossContexts(
  contexts: string[],
  optionsFor: (namespace: string) => StatusOptions,
  deps: MultiStatusDeps,
): Promise<number> {
  const results = await mapBounded(contexts, contextConcurrency, async (context): Promise<ContextResult> => {
    try {
      const factory = await deps.factoryFor(context);
      const report = await statusReport(optionsFor(factory.namespace), { ...deps, client: factory.client });
      deps.err(`${context}: ${report.summary.health}\n`);
      const exitCode = report.summary.health === 'OK' ? ExitCode.ok : ExitCode.findings;
      return { context, exitCode, report };
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode === ExitCode.interrupted) throw error;
      deps.err(`${context}: error: ${error.message}\n`);
      return { context, exitCode: error.exitCode, error: error.message };
    }
  });
  const exitCode = Math.max(ExitCode.ok, ...results.map((result) => result.exitCode));
  const options = optionsFor('');
  if (options.format === 'json' || options.format === 'yaml') {
    const multi: MultiContextReport = {
      apiVersion: reportApiVersion,
      kind: 'TLSStatusMultiContextReport',
      generatedAt: deps.now.toISOString(),
      contexts: results,
      summary: {
        contexts: results.length,
        ok: results.filter((r) => r.exitCode === ExitCode.ok).length,
        findings: results.filter((r) => r.exitCode === ExitCode.findings).length,
        failed: results.filter((r) => r.report === undefined).length,
        exitCode,
      },
    };
    deps.out(renderData(multi, options.format));
  } else {
    deps.out(renderContextsTable(results, options.format === 'wide', options.allNamespaces));
  }
  return exitCode;
}
