/**
 * `tls report`: collect -> diagnose -> bundle -> one tar.gz for support, with progress on stderr.
 * With many contexts, each context is collected as with `--context` alone, a few at a time, and the
 * one archive holds a folder per context under one index and one manifest.
 */
import { CliError, ExitCode } from '../../../errors.ts';
import type { KubeClient } from '../../../kube/client.ts';
import type { Writer } from '../../../kube/request-log.ts';
import {
  archiveFiles,
  buildBundle,
  type ContextSection,
  defaultFileName,
  failedOutcome,
  unreadableOutcome,
} from '../../../tls/bundle/bundle.ts';
import { collect } from '../../../tls/bundle/collect.ts';
import { emptyCounts, Pseudonyms } from '../../../tls/bundle/redact.ts';
import { tarGz } from '../../../tls/bundle/tar.ts';
import { diagnose } from '../../../tls/diagnose.ts';
import { defaultProbeConcurrency } from '../../../tls/probe.ts';
import { mapBounded } from '../../../util/bounded.ts';
import { contextConcurrency } from '../status/contexts.ts';
import { notFound, unreadableSinglestores } from '../status/status.ts';

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

/** What collecting one context needs. */
export interface SectionDeps {
  client: KubeClient;
  /** Progress lines of this context. */
  progress: Writer;
  interrupt: AbortSignal;
  now: Date;
  commandName: string;
  contextName: string;
  pluginVersion: string;
}

/** What writing the archive needs. */
export interface ArchiveDeps {
  out: Writer;
  err: Writer;
  now: Date;
  writeFile: (path: string, data: Buffer) => void;
}

export type ReportDeps = Omit<SectionDeps, 'progress'> & ArchiveDeps;

/** One context: its archive at the root, or the error (unreachable, no such database) as the command's. */
export async function runReport(options: ReportOptions, deps: ReportDeps): Promise<number> {
  const section = await contextSection(options, { ...deps, progress: deps.err });
  return writeArchive([section], options, deps);
}

/**
 * Many contexts, one archive: a context that cannot be collected is an entry of the index (and a line
 * on stderr), the others go on; the exit code is the worst of all contexts.
 */
export async function runReportAcrossContexts(
  contexts: string[],
  options: ReportOptions,
  deps: ArchiveDeps & { sectionFor(context: string, progress: Writer): Promise<ContextSection> },
): Promise<number> {
  const sections = await mapBounded(contexts, contextConcurrency, async (context) => {
    const progress: Writer = (text) => deps.err(`${context}: ${text}`);
    try {
      return await deps.sectionFor(context, progress);
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode === ExitCode.interrupted) throw error;
      progress(`error: ${error.message}\n`);
      return failedSection(context, error, options);
    }
  });
  return writeArchive(sections, options, deps);
}

/** Collect, diagnose and redact one context. */
export async function contextSection(options: ReportOptions, deps: SectionDeps): Promise<ContextSection> {
  const namespace = options.allNamespaces ? undefined : options.namespace;
  const where = namespace ? `namespace "${namespace}"` : 'every namespace';
  deps.progress(
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
    throw notFound(options.name, namespace);
  }
  const bundleOptions = { pluginVersion: deps.pluginVersion, redactNames: options.redactNames };
  if (!singlestores.ok) {
    // What else was readable still goes in; the context is reported as not readable, as status does.
    const error = unreadableSinglestores(singlestores);
    const { pseudonymize, ...bundle } = buildBundle(collected, { unreadable: error.message }, bundleOptions);
    return {
      context: deps.contextName,
      outcome: unreadableOutcome,
      exitCode: error.exitCode,
      error: pseudonymize(error.message),
      ...bundle,
    };
  }
  const report = diagnose(collected.snapshot, {
    now: deps.now,
    warnWithinMs: options.warnWithinMs,
    requireTls: false,
    commandName: deps.commandName,
  });
  deps.progress(`Redacting ${report.databases.length} database(s)...\n`);
  const { pseudonymize: _, ...bundle } = buildBundle(collected, report, bundleOptions);
  return {
    context: deps.contextName,
    outcome: report.summary.health,
    // The archive is what was asked for: findings are in it, not in the exit code.
    exitCode: ExitCode.ok,
    ...bundle,
  };
}

function failedSection(context: string, error: CliError, options: ReportOptions): ContextSection {
  // No object was read, so the names to hide are the ones the command was given.
  const pseudonyms = new Pseudonyms();
  if (options.redactNames) {
    pseudonyms.addNamespace(options.namespace);
    pseudonyms.addName(options.name);
  }
  return {
    context,
    outcome: failedOutcome,
    exitCode: error.exitCode,
    error: pseudonyms.apply(error.message),
    files: [],
    dropped: emptyCounts(),
    unavailable: [],
  };
}

function writeArchive(sections: ContextSection[], options: ReportOptions, deps: ArchiveDeps): number {
  const files = archiveFiles(sections, { now: deps.now, redactNames: options.redactNames });
  const file =
    options.file ??
    defaultFileName(
      sections.map((section) => section.context),
      deps.now,
    );
  deps.writeFile(file, tarGz(files, deps.now));
  const many = sections.length > 1;
  for (const section of sections) {
    const prefix = many ? `${section.context}: ` : '';
    for (const entry of section.unavailable)
      deps.err(`${prefix}Not included: ${entry.what} (see index.txt)\n`);
    const status =
      section.outcome === unreadableOutcome || section.outcome === failedOutcome
        ? `${section.outcome}: ${section.error ?? ''}`
        : section.outcome;
    deps.err(`${prefix}Status: ${status}\n`);
  }
  deps.err(`${files.length} files.\n`);
  deps.out(`${file}\n`);
  return Math.max(ExitCode.ok, ...sections.map((section) => section.exitCode));
}
