/**
 * `tls enable`: preflight (reads only), then one idempotent write the supported way (a
 * SinglestoreOpsRequest ReconfigureTLS, or a merge patch of spec.tls guarded by resourceVersion), then
 * optionally a watch-based wait through the whole TLS path and a final `tls status` check. The
 * enable planner (src/tls/converge/plan.ts) decides; the executor writes and waits. Re-running
 * after Ctrl-C finds its own ops request or patch and continues.
 */
import type { DryRun } from '../../../kube/client.ts';
import { tlsCertificates } from '../../../kubedb/naming.ts';
import { type DataFormat, renderData } from '../../../output/formats.ts';
import { createProgress, type ProgressMode } from '../../../output/progress.ts';
import { createAuditor } from '../../../tls/converge/audit.ts';
import { type ChangeMethod, planEnable } from '../../../tls/converge/plan.ts';
import { convergeDatabase } from '../../../tls/converge/run.ts';
import { desiredTls, type TlsSettings } from '../../../tls/spec.ts';
import { deadlineFrom } from '../../../tls/wait.ts';
import { parseGoDuration } from '../../../util/duration.ts';
import type { ActionDeps } from '../action-deps.ts';

export type EnableMethod = ChangeMethod;

export interface EnableOptions {
  name: string;
  namespace: string;
  settings: TlsSettings;
  method: EnableMethod;
  dryRun: DryRun;
  output?: DataFormat;
  wait: boolean;
  timeoutMs: number;
  overwrite: boolean;
  force: boolean;
  /** Warn when the issuer's CA expires within this. */
  warnWithinMs: number;
  /** cert-manager's --cluster-resource-namespace, for a CA ClusterIssuer's Secret. */
  clusterResourceNamespace: string;
  progress: ProgressMode;
  /** The final check probes every pod within this time; absent: the objects only. */
  probe?: { timeoutMs: number };
}

export type EnableDeps = ActionDeps;

/** cert-manager issues for 90 days unless told otherwise (Certificate spec.duration's default). */
const certManagerDefaultDuration = '2160h';

export async function runEnable(options: EnableOptions, deps: EnableDeps): Promise<number> {
  const { client } = deps;
  const { name, namespace } = options;
  const desired = desiredTls(options.settings);
  const expected = tlsCertificates(name, desired.certificates);
  const duration = options.settings.duration ?? certManagerDefaultDuration;
  const record = await convergeDatabase(
    client,
    { namespace, name },
    {
      bulk: false,
      gather: {
        now: deps.now(),
        ...(desired.issuerRef ? { issuerRef: desired.issuerRef } : {}),
        readCa: { clusterResourceNamespace: options.clusterResourceNamespace },
        workloads: options.wait && options.dryRun === 'none',
      },
      plan: (snapshot) =>
        planEnable(snapshot, {
          desired,
          method: options.method,
          overwrite: options.overwrite,
          force: options.force,
          dryRun: options.dryRun,
          wait: options.wait,
          expected: {
            certificates: expected.map((entry) => entry.certificate),
            secrets: expected.map((entry) => entry.secret),
          },
          warnWithinMs: options.warnWithinMs,
          durationMs: parseGoDuration(duration),
          durationText: options.settings.duration ?? `${duration} (cert-manager's default)`,
        }),
      settings: changeSettings(options, deps),
    },
  );
  return record.exitCode;
}

/** How enable and disable carry out a plan: lines on stdout (stderr with -o), the object with -o. */
export function changeSettings(
  options: Pick<EnableOptions, 'dryRun' | 'output' | 'progress' | 'timeoutMs' | 'probe'>,
  deps: ActionDeps,
) {
  const { client } = deps;
  const out = (line: string) => deps.out(`${line}\n`);
  const err = (line: string) => deps.err(`${line}\n`);
  const { output } = options;
  return {
    client,
    dryRun: options.dryRun,
    log: out,
    warn: err,
    conflictNotice: err,
    ...(output ? { render: (object: object) => deps.out(renderData(object, output)) } : {}),
    showObjects: true,
    wait: {
      client,
      progress: createProgress(options.progress, deps.err),
      interrupt: deps.interrupt,
      ...deadlineFrom(options.timeoutMs),
    },
    now: deps.now,
    commandName: deps.commandName,
    ...(options.probe ? { probe: options.probe } : {}),
    verifyOut: output ? deps.err : deps.out,
    audit: createAuditor(client, { now: deps.now, warn: err }),
  };
}
