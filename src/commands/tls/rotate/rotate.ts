/**
 * `tls rotate`: new certificates, loaded by every pod, verified. Per database the rotate planner
 * decides what is left to do (src/tls/converge/plan.ts: an ops request with rotateCertificates, or
 * cert-manager's Issuing condition as `cmctl renew` sets it, then the restart), and the executor
 * carries it out. A re-run finds what an earlier, interrupted run did, so nothing is issued twice.
 */
import { ExitCode } from '../../../errors.ts';
import type { DryRun } from '../../../kube/client.ts';
import { renderData } from '../../../output/formats.ts';
import { createProgress, type ProgressMode } from '../../../output/progress.ts';
import { formatTable } from '../../../output/table.ts';
import { createAuditor } from '../../../tls/converge/audit.ts';
import type { IssuerSelection } from '../../../tls/converge/by-issuer.ts';
import type { ConvergeRecord } from '../../../tls/converge/model.ts';
import { planRotate, type RotatePlanOptions } from '../../../tls/converge/plan.ts';
import {
  convergeDatabase,
  convergeMany,
  selectTlsDatabases,
  worstExitCode,
} from '../../../tls/converge/run.ts';
import { deadlineFrom } from '../../../tls/wait.ts';
import type { ActionDeps } from '../action-deps.ts';

export type RotateMethod = RotatePlanOptions['method'];

export interface RotateOptions extends Omit<RotatePlanOptions, 'dryRun' | 'wait'> {
  /** One database, or undefined with --all/--issuer/-A/-l. */
  name?: string;
  /** --issuer: the databases of this issuer whose certificates its current CA did not sign (or all of them). */
  issuer?: IssuerSelection;
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string;
  wait: boolean;
  timeoutMs: number;
  dryRun: DryRun;
  output?: 'json';
  concurrency: number;
  progress: ProgressMode;
  /** The final check (and --stale-only) probes every pod within this time; absent: objects only. */
  probe?: { timeoutMs: number };
}

export type RotateDeps = ActionDeps;

/** One database's rotation, as printed and in `-o json` (rotate-result.schema.json). */
export type RotateResult = ConvergeRecord;

export async function runRotate(options: RotateOptions, deps: RotateDeps): Promise<number> {
  const { client } = deps;
  const databases = await selectTlsDatabases(client, options, deps.err);
  const bulk = options.name === undefined;
  if (databases.length === 0) {
    deps.err('No TLS-enabled Singlestore databases found.\n');
    return ExitCode.ok;
  }
  const audit = createAuditor(client, { now: deps.now, warn: (line) => deps.err(`${line}\n`) });
  const results = await convergeMany(databases, options.concurrency, (db) => {
    const namespace = db.metadata.namespace as string;
    const name = db.metadata.name;
    const prefix = bulk ? `${namespace}/${name}: ` : '';
    const log = (line: string) => (options.output ? deps.err : deps.out)(`${prefix}${line}\n`);
    const warn = (line: string) => deps.err(`${prefix}${line}\n`);
    return convergeDatabase(
      client,
      { namespace, name, db },
      {
        bulk,
        gather: { now: deps.now() },
        plan: (snapshot) =>
          planRotate(snapshot, {
            ...options,
            wait: options.wait && options.dryRun === 'none',
            // --issuer selected databases whose certificates the current CA did not sign: a
            // rotation that finished moments ago is no reason to leave them.
            force: options.force || options.issuer !== undefined,
          }),
        settings: {
          client,
          dryRun: options.dryRun,
          log,
          warn,
          conflictNotice: log,
          showObjects: !bulk && !options.output,
          wait: {
            client,
            progress: createProgress(
              bulk ? 'plain' : options.progress,
              deps.err,
              undefined,
              bulk ? `${namespace}/${name}` : '',
            ),
            interrupt: deps.interrupt,
            ...deadlineFrom(options.timeoutMs),
          },
          now: deps.now,
          commandName: deps.commandName,
          ...(options.probe ? { probe: options.probe } : {}),
          // Many databases: each verdict and its findings on lines of their own, named like the progress.
          verifyOut: options.output ? () => {} : bulk ? (text) => log(text.replace(/\n$/, '')) : deps.out,
          audit,
        },
      },
    );
  });
  if (options.output === 'json') {
    deps.out(
      renderData({ apiVersion: 'singlestore.tls.kubedb.com/v1', kind: 'TLSRotateResult', results }, 'json'),
    );
  } else if (bulk) {
    deps.out(summaryTable(results));
  } else {
    for (const result of results) deps.out(`${describeResult(result)}\n`);
  }
  return worstExitCode(results, deps.interrupt.aborted);
}

function describeResult(result: RotateResult): string {
  const serials = result.certificates
    .filter((c) => c.newSerial)
    .map((c) => `${c.name} ${c.oldSerial?.slice(0, 12) ?? '-'}.. -> ${c.newSerial?.slice(0, 12)}..`)
    .join(', ');
  const parts = [
    `Singlestore ${result.namespace}/${result.name}: ${result.result} (${result.method})`,
    serials ? `new certificates: ${serials}` : '',
    result.restarted.length ? `restarted: ${result.restarted.join(', ')}` : '',
    `in ${result.elapsedSeconds}s`,
  ];
  return parts.filter(Boolean).join('; ');
}

function summaryTable(results: RotateResult[]): string {
  const rows = results.map((result) => [
    result.namespace,
    result.name,
    result.result,
    result.method || '-',
    result.certificates
      .map((c) => `${c.newSerial && c.newSerial !== c.oldSerial ? c.newSerial.slice(0, 8) : '-'}`)
      .join(',') || '-',
    result.restarted.join(',') || '-',
    `${result.elapsedSeconds}s`,
    result.error ?? result.health ?? '-',
  ]);
  return formatTable(
    ['NAMESPACE', 'NAME', 'RESULT', 'METHOD', 'NEW-SERIALS', 'RESTARTED', 'ELAPSED', 'DETAIL'],
    rows,
  );
}
