/**
 * The final check after enable/rotate: `tls status` for one database, printed briefly. With the
 * probe on, "done" means every pod serves the Secret's certificate on the wire, not only that the
 * objects look right.
 */
import type { KubeClient } from '../kube/client.ts';
import type { Writer } from '../kube/request-log.ts';
import { diagnose } from './diagnose.ts';
import { gather } from './gather.ts';
import { defaultProbeConcurrency } from './probe.ts';
import { servedCell } from './render.ts';
import type { DatabaseReport, PodReport } from './report.ts';

export interface VerifyOptions {
  now: Date;
  commandName: string;
  /** Probe every pod within this time; absent: the objects only. */
  probe?: { timeoutMs: number };
  interrupt: AbortSignal;
}

export async function verifyDatabase(
  client: KubeClient,
  target: { namespace: string; name: string },
  options: VerifyOptions,
  out: Writer,
): Promise<{ code: number; report: DatabaseReport | undefined }> {
  const snapshot = await gather(
    client,
    target,
    options.probe
      ? { probe: { ...options.probe, concurrency: defaultProbeConcurrency, signal: options.interrupt } }
      : {},
  );
  const report = diagnose(snapshot, {
    now: options.now,
    commandName: options.commandName,
    warnWithinMs: 30 * 86_400_000,
    requireTls: true,
  });
  const db = report.databases[0] as DatabaseReport | undefined;
  const problems = db?.findings.filter((finding) => finding.severity !== 'info') ?? [];
  const served = db ? servedCell(db) : '-';
  out(
    `tls status ${target.namespace}/${target.name}: ${db?.health ?? 'UNKNOWN'}${served === '-' ? '' : ` (on the wire: ${served})`}\n`,
  );
  for (const finding of problems) {
    out(`  ${finding.severity.toUpperCase()} [${finding.step}] ${finding.message}\n`);
    if (finding.hint) out(`    next: ${finding.hint}\n`);
  }
  return { code: db?.health === 'OK' ? 0 : 1, report: db };
}

/** The database's pods, each with what it was seen (or guessed) to serve. */
export function podsOf(report: DatabaseReport | undefined): PodReport[] {
  return report?.petSets.flatMap((petSet) => petSet.pods ?? []) ?? [];
}
