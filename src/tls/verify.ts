/** The final check after enable/rotate: `tls status` for one database, printed briefly. */
import type { KubeClient } from '../kube/client.ts';
import type { Writer } from '../kube/request-log.ts';
import { diagnose } from './diagnose.ts';
import { gather } from './gather.ts';
import type { DatabaseReport } from './report.ts';

export async function verifyDatabase(
  client: KubeClient,
  target: { namespace: string; name: string },
  options: { now: Date; commandName: string },
  out: Writer,
): Promise<{ code: number; report: DatabaseReport | undefined }> {
  const snapshot = await gather(client, target);
  const report = diagnose(snapshot, { ...options, warnWithinMs: 30 * 86_400_000, requireTls: true });
  const db = report.databases[0] as DatabaseReport | undefined;
  const problems = db?.findings.filter((finding) => finding.severity !== 'info') ?? [];
  out(`tls status ${target.namespace}/${target.name}: ${db?.health ?? 'UNKNOWN'}\n`);
  for (const finding of problems)
    out(`  ${finding.severity.toUpperCase()} [${finding.step}] ${finding.message}\n`);
  return { code: db?.health === 'OK' ? 0 : 1, report: db };
}
