/**
 * Gather -> plan -> execute for one database, and for many a few at a time: the loop enable,
 * rotate and disable share. A failure of one database among many is its record (the others go
 * on); for one database it is the command's error.
 */
import { CliError, ExitCode, TimeoutError } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import { Resources } from '../../kube/resources.ts';
import type { Singlestore } from '../../kubedb/types.ts';
import { byText } from '../../util/compare.ts';
import { type IssuerSelection, selectByIssuer } from './by-issuer.ts';
import { type ExecuteSettings, executePlan } from './execute.ts';
import { type GatherConvergeOptions, gatherConverge, getDatabase } from './gather.ts';
import type { ConvergeRecord, ConvergeSnapshot, Plan } from './model.ts';

export interface ConvergeJob {
  gather: GatherConvergeOptions;
  plan: (snapshot: ConvergeSnapshot) => Plan;
  settings: ExecuteSettings;
  /** Many databases: a failure is recorded, not thrown. */
  bulk: boolean;
  /** The clock for the elapsed time (performance.now by default). */
  elapsed?: () => number;
}

export async function convergeDatabase(
  client: KubeClient,
  target: { namespace: string; name: string; db?: Singlestore },
  job: ConvergeJob,
): Promise<ConvergeRecord> {
  const clock = job.elapsed ?? (() => performance.now());
  const started = clock();
  const seconds = () => Math.round((clock() - started) / 100) / 10;
  try {
    const snapshot = await gatherConverge(client, target, job.gather);
    const record = await executePlan(job.plan(snapshot), snapshot, job.settings);
    return { ...record, elapsedSeconds: seconds() };
  } catch (error) {
    if (!(error instanceof CliError) || !job.bulk) throw error;
    job.settings.warn(`error: ${error.message}`);
    return {
      namespace: target.namespace,
      name: target.name,
      result: 'failed',
      method: '',
      certificates: [],
      restarted: [],
      elapsedSeconds: seconds(),
      error: error.message,
      exitCode: error instanceof TimeoutError ? ExitCode.timeout : error.exitCode,
    };
  }
}

/** Run `each` over the items, `concurrency` at a time; results sorted by namespace and name. */
export async function convergeMany<T extends { namespace: string; name: string }>(
  databases: Singlestore[],
  concurrency: number,
  each: (db: Singlestore) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < databases.length) results.push(await each(databases[next++] as Singlestore));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, databases.length) }, worker));
  return results.sort((a, b) => byText(a.namespace, b.namespace) || byText(a.name, b.name));
}

/** The worst exit code of many results: interrupted, runtime, timeout, findings, ok. */
export function worstExitCode(records: { exitCode: number }[], interrupted: boolean): number {
  if (interrupted) return ExitCode.interrupted;
  const codes = records.map((record) => record.exitCode);
  if (codes.includes(ExitCode.runtime)) return ExitCode.runtime;
  if (codes.includes(ExitCode.timeout)) return ExitCode.timeout;
  return codes.includes(ExitCode.findings) ? ExitCode.findings : ExitCode.ok;
}

export interface DatabaseSelection {
  name?: string;
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string;
  issuer?: IssuerSelection;
}

/** The databases a rotate acts on: one by name, or the TLS-enabled ones of a namespace, label or issuer. */
export async function selectTlsDatabases(
  client: KubeClient,
  selection: DatabaseSelection,
  err: (text: string) => void,
): Promise<Singlestore[]> {
  if (selection.name) return [await getDatabase(client, selection.namespace, selection.name)];
  const list = await client.list<Singlestore>(Resources.singlestore, {
    namespace: selection.allNamespaces ? undefined : selection.namespace,
    labelSelector: selection.labelSelector,
  });
  const enabled = list.items.filter((db) => db.spec?.tls?.issuerRef);
  return selection.issuer
    ? selectByIssuer(client, { databases: enabled, issuer: selection.issuer, err })
    : enabled;
}
