/** `--restart-only --stale-only`: replacing the pods the probe sees serving an old certificate. */
import { TimeoutError } from '../errors.ts';
import { type DryRun, dryRunNote, type KubeClient } from '../kube/client.ts';
import { Resources } from '../kube/resources.ts';
import type { Pod } from '../kubedb/types.ts';
import { probePod } from './probe.ts';
import { podsOf, verifyDatabase } from './verify.ts';
import { podReplacedStep, type WaitContext, waitFor } from './wait.ts';

export interface StaleRestartSettings {
  client: KubeClient;
  probe: { timeoutMs: number };
  dryRun: DryRun;
  log: (line: string) => void;
  context: WaitContext;
  now: () => Date;
  commandName: string;
}

/**
 * `--restart-only --stale-only`: probe the database's pods, then delete the ones seen serving
 * another certificate than the Secret's, one at a time, each waited for until its replacement is
 * Ready and serves the current certificate. Pods serving the current one are left alone (their UIDs
 * do not change); a re-run after an interrupt probes again and goes on with what is still stale.
 */
export async function restartStalePods(
  target: { namespace: string; name: string },
  settings: StaleRestartSettings,
): Promise<string[]> {
  const { client, context, log, dryRun } = settings;
  const { namespace } = target;
  const { report } = await verifyDatabase(
    client,
    target,
    {
      now: settings.now(),
      commandName: settings.commandName,
      probe: settings.probe,
      interrupt: context.interrupt,
    },
    () => {},
  );
  const pods = podsOf(report);
  const serverSerial = report?.certificates.find((certificate) => certificate.alias === 'server')?.secret
    .certificate?.serialNumber;
  const stale = pods.filter((pod) => pod.served === 'stale');
  const unproven = pods.filter((pod) => pod.served === 'not-probed' || pod.served === 'failed');
  if (unproven.length) {
    log(
      `not proven on the wire, left alone: ${unproven.map((pod) => `${pod.name} (${pod.probe?.message ?? pod.probe?.result ?? 'not probed'})`).join(', ')}`,
    );
  }
  if (stale.length === 0) {
    log('no pod serves a stale certificate: nothing to restart');
    return [];
  }
  const dry = dryRunNote(dryRun);
  const restarted: string[] = [];
  for (const pod of stale) {
    const servedSerial = pod.probe?.served?.serialNumber;
    if (dryRun === 'client') {
      log(`would delete pod ${namespace}/${pod.name} (serves serial ${servedSerial})${dry}`);
      restarted.push(pod.name);
      continue;
    }
    const live = await client.get<Pod>(Resources.pod, namespace, pod.name);
    const uid = live.metadata.uid as string;
    await client.delete(Resources.pod, namespace, pod.name, { uid, dryRun });
    log(
      `deleted pod ${namespace}/${pod.name} (served serial ${servedSerial}): its PetSet recreates it${dry}`,
    );
    restarted.push(pod.name);
    if (dryRun !== 'none') continue;
    await waitFor(context, podReplacedStep(namespace, pod.name, uid));
    await waitUntilServing(client, { namespace, pod: pod.name, serial: serverSerial }, settings);
    log(`pod ${namespace}/${pod.name} now serves the current certificate (serial ${serverSerial})`);
  }
  return restarted;
}

/** Probe one pod until it serves `serial`; a server needs a moment after Ready on some images. */
async function waitUntilServing(
  client: KubeClient,
  target: { namespace: string; pod: string; serial: string | undefined },
  settings: StaleRestartSettings,
): Promise<void> {
  const { context } = settings;
  const handle = context.progress.step(`pod ${target.pod} serving the current certificate`);
  let last = 'not probed yet';
  while (performance.now() < context.deadline) {
    const timeoutMs = Math.max(1, Math.min(settings.probe.timeoutMs, context.deadline - performance.now()));
    const probe = await probePod(
      client,
      { namespace: target.namespace, pod: target.pod, phase: 'Running', servername: target.pod },
      { timeoutMs, concurrency: 1, signal: context.interrupt },
    );
    if (probe.result === 'tls' && probe.served?.serialNumber === target.serial) {
      handle.done(`serial ${target.serial}`);
      return;
    }
    last =
      probe.result === 'tls'
        ? `serves serial ${probe.served?.serialNumber}`
        : (probe.message ?? probe.result);
    handle.update(last);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  handle.fail(last);
  throw new TimeoutError(
    `timed out after ${context.timeoutText} waiting for pod ${target.pod} to serve the current certificate: ${last}`,
  );
}
