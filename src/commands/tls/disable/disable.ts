/**
 * `tls disable`: turn TLS off the supported way. Where KubeDB's ops manager runs, a
 * SinglestoreOpsRequest ReconfigureTLS with `remove: true` (kubedb.dev/apimachinery
 * apis/ops/v1alpha1: SinglestoreOpsRequestSpec.TLS is a TLSSpec, whose `remove` "tells operator to
 * remove TLS configuration"); elsewhere a merge patch that removes spec.tls. No prompt (like
 * `kubectl delete`): scripts must work, and the output says plainly what was turned off. With
 * --wait it follows the change until the pods restarted and, on the wire, serve without TLS.
 * Idempotent and resumable: a re-run continues this tool's ops request, or says nothing is left.
 */
import type { DryRun } from '../../../kube/client.ts';
import type { DataFormat } from '../../../output/formats.ts';
import type { ProgressMode } from '../../../output/progress.ts';
import { type ChangeMethod, planDisable } from '../../../tls/converge/plan.ts';
import { convergeDatabase } from '../../../tls/converge/run.ts';
import type { ActionDeps } from '../action-deps.ts';
import { changeSettings } from '../enable/enable.ts';

export interface DisableOptions {
  name: string;
  namespace: string;
  method: ChangeMethod;
  dryRun: DryRun;
  output?: DataFormat;
  wait: boolean;
  timeoutMs: number;
  progress: ProgressMode;
  /** The final check probes every pod within this time; absent: the objects only. */
  probe?: { timeoutMs: number };
}

export async function runDisable(options: DisableOptions, deps: ActionDeps): Promise<number> {
  const record = await convergeDatabase(
    deps.client,
    { namespace: options.namespace, name: options.name },
    {
      bulk: false,
      gather: { now: deps.now(), noIssuer: true, workloads: options.wait && options.dryRun === 'none' },
      plan: (snapshot) =>
        planDisable(snapshot, {
          method: options.method,
          dryRun: options.dryRun,
          wait: options.wait,
          force: false,
        }),
      settings: changeSettings(options, deps),
    },
  );
  return record.exitCode;
}
