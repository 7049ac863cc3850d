/**
 * The final check after enable/rotate: `tls status` for one database, printed briefly. With the
 * probe on, "done" means every pod serves the Secret's certificate on the wire, not only that the
 * objects look right.
 */
import type { KubeClient } from '../kube/client.ts';
import type { Writer } from '../kube/request-log.ts';
import { Resources } from '../kube/resources.ts';
import type { Pod, Singlestore } from '../kubedb/types.ts';
import { diagnose } from './diagnose.ts';
import { gather } from './gather.ts';
import { defaultProbeConcurrency, probePods } from './probe.ts';
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

/**
 * The final check after `tls disable`: spec.tls is gone and, where the probe ran, every pod's
 * greeting no longer offers TLS ('no-tls' is the expected result here). A pod still completing a
 * TLS handshake was not restarted.
 */
export async function verifyPlain(
  client: KubeClient,
  target: { namespace: string; name: string },
  options: VerifyOptions,
  out: Writer,
): Promise<{ code: number; pods: { pod: string; served: string }[] }> {
  const { namespace, name } = target;
  const [db, pods] = await Promise.all([
    client.find<Singlestore>(Resources.singlestore, namespace, name),
    client.list<Pod>(Resources.pod, { namespace, labelSelector: `app.kubernetes.io/instance=${name}` }),
  ]);
  const problems: string[] = [];
  if (db?.spec?.tls?.issuerRef) problems.push(`spec.tls is still set (${db.spec.tls.issuerRef.name})`);
  const probes = options.probe
    ? await probePods(
        client,
        pods.items.map((pod) => ({
          namespace,
          pod: pod.metadata.name,
          phase: pod.status?.phase,
          servername: pod.metadata.name,
        })),
        {
          ...options.probe,
          concurrency: defaultProbeConcurrency,
          signal: options.interrupt,
          checks: 'served',
        },
      )
    : [];
  const served = probes.map((probe) => ({
    pod: probe.pod,
    served: probe.result === 'no-tls' ? 'no-tls' : probe.result === 'tls' ? 'tls' : 'not-probed',
  }));
  for (const probe of probes)
    if (probe.result === 'tls')
      problems.push(
        `pod ${probe.pod} still serves TLS (serial ${probe.served?.serialNumber}): it was not restarted`,
      );
  // A pod that could not be asked is not proof: not probed (forbidden, not running) is said, a pod
  // that did not answer as a server should is a problem like one still serving TLS.
  const notProbed = probes.filter((probe) => probe.result === 'forbidden' || probe.result === 'not-running');
  for (const probe of probes)
    if (probe.result !== 'tls' && probe.result !== 'no-tls' && !notProbed.includes(probe))
      problems.push(
        `pod ${probe.pod} did not answer as a server without TLS: ${probe.result}${probe.message ? ` (${probe.message})` : ''}`,
      );
  const plain = served.filter((pod) => pod.served === 'no-tls').length;
  out(
    `tls status ${namespace}/${name}: ${problems.length ? 'TLS NOT OFF' : 'TLS off'}${probes.length ? ` (on the wire: ${plain}/${probes.length} no-tls${notProbed.length ? `; ${notProbed.length} not probed: ${notProbed[0]?.result}` : ''})` : ''}\n`,
  );
  for (const problem of problems) out(`  WARNING ${problem}\n`);
  return { code: problems.length ? 1 : 0, pods: served };
}
