/** `tls report`: collect -> diagnose -> bundle -> one tar.gz for support, with progress on stderr. */
import { ApiError, CliError, ExitCode } from '../../../errors.ts';
import type { KubeClient } from '../../../kube/client.ts';
import type { Writer } from '../../../kube/request-log.ts';
import { buildBundle, defaultFileName } from '../../../tls/bundle/bundle.ts';
import { collect } from '../../../tls/bundle/collect.ts';
import { tarGz } from '../../../tls/bundle/tar.ts';
import { diagnose } from '../../../tls/diagnose.ts';
import { defaultProbeConcurrency } from '../../../tls/probe.ts';
import { mapBounded } from '../../../util/bounded.ts';
import { contextConcurrency } from '../status/contexts.ts';

export interface ReportOptions {
  name?: string;
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string;
  /** Absent: the default name in the current directory. */
  file?: string;
  redactNames: boolean;
  warnWithinMs: number;
  probe?: { timeoutMs: number };
}

export interface ReportDeps {
  client: KubeClient;
  out: Writer;
  err: Writer;
  interrupt: AbortSignal;
  now: Date;
  commandName: string;
  contextName: string;
  pluginVersion: string;
  writeFile: (path: string, data: Buffer) => void;
}

export async function runReport(options: ReportOptions, deps: ReportDeps): Promise<number> {
  const namespace = options.allNamespaces ? undefined : options.namespace;
  const where = namespace ? `namespace "${namespace}"` : 'every namespace';
  deps.err(
    `Collecting the TLS path of Singlestores in ${where}${options.probe ? ' (with the wire probe)' : ''}...\n`,
  );
  const collected = await collect(
    deps.client,
    { namespace, name: options.name, labelSelector: options.labelSelector },
    options.probe
      ? { probe: { ...options.probe, concurrency: defaultProbeConcurrency, signal: deps.interrupt } }
      : {},
  );
  const { singlestores } = collected.snapshot;
  if (options.name && singlestores.ok && singlestores.items.length === 0) {
    throw new ApiError(`singlestores.kubedb.com "${options.name}" not found in ${where}`, 404, 'NotFound');
  }
  const report = diagnose(collected.snapshot, {
    now: deps.now,
    warnWithinMs: options.warnWithinMs,
    requireTls: false,
    commandName: deps.commandName,
  });
  deps.err(`Redacting and writing ${report.databases.length} database(s)...\n`);
  const files = buildBundle(collected, report, {
    now: deps.now,
    contextName: deps.contextName,
    pluginVersion: deps.pluginVersion,
    redactNames: options.redactNames,
  });
  const file = options.file ?? defaultFileName(deps.contextName, deps.now);
  deps.writeFile(file, tarGz(files, deps.now));
  const unavailable = (
    JSON.parse(files[0]?.content.toString() ?? '{}') as { unavailable?: { what: string }[] }
  ).unavailable;
  for (const entry of unavailable ?? []) deps.err(`Not included: ${entry.what} (see index.txt)\n`);
  deps.err(`Status: ${report.summary.health}; ${files.length} files.\n`);
  deps.out(`${file}\n`);
  return ExitCode.ok;
}

/**
 * `tls report --contexts`: one archive per context (its default name holds the context), a few at a
 * time; a context that fails is reported on stderr and the others go on; the exit code is the worst.
 */
export async function runReportAcrossContexts(
  contexts: string[],
  reportFor: (context: string) => Promise<number>,
  err: Writer,
): Promise<number> {
  const codes = await mapBounded(contexts, contextConcurrency, async (context) => {
    try {
      return await reportFor(context);
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode === ExitCode.interrupted) throw error;
      err(`${context}: error: ${error.message}\n`);
      return error.exitCode;
    }
  });
  return Math.max(ExitCode.ok, ...codes);
}
