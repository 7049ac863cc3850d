/** Rolling a database's pods so they load the certificates in its Secrets: shared by rotate and enable. */
import { TimeoutError } from '../errors.ts';
import type { DryRun, KubeClient } from '../kube/client.ts';
import { Resources } from '../kube/resources.ts';
import type { OpsRequest, PetSet, Pod, Secret, Singlestore } from '../kubedb/types.ts';
import { opsRequestBody, ownRequest } from './ops-requests.ts';
import { probePod } from './probe.ts';
import { podsOf, verifyDatabase } from './verify.ts';
import { decodeTls, opsRequestStep, podReplacedStep, type WaitContext, waitFor } from './wait.ts';
import { inspectTlsData } from './x509.ts';

const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';

/** When the newest certificate in these Secrets was issued (its notBefore). */
export async function newestIssue(
  client: KubeClient,
  namespace: string,
  secretNames: string[],
): Promise<string> {
  const secrets = await Promise.all(
    secretNames.map((secret) => client.find<Secret>(Resources.secret, namespace, secret)),
  );
  return (
    secrets
      .map((secret) => (secret ? inspectTlsData(decodeTls(secret)).certificate?.notBefore : undefined))
      .filter((value): value is string => Boolean(value))
      .sort()
      .at(-1) ?? new Date(0).toISOString()
  );
}

/**
 * Restart the PetSets the KubeDB way the cluster supports: a Restart ops request where KubeDB's ops
 * manager runs, else kubectl's restartedAt annotation on the pod template. A restart newer than the
 * certificates (from an interrupted run) is not repeated.
 */
export async function restartPetSets(
  client: KubeClient,
  db: Singlestore,
  petSets: string[],
  newestIssued: string,
  useOpsRequest: boolean,
  dryRun: DryRun,
  log: (line: string) => void,
  context: WaitContext,
  wait: boolean,
): Promise<string[]> {
  const namespace = db.metadata.namespace as string;
  const name = db.metadata.name;
  const dry = dryRun === 'none' ? '' : ' (dry run)';
  if (useOpsRequest) {
    const running = await ownRequest(
      client,
      namespace,
      name,
      'restart',
      (request) => request.spec.type === 'Restart',
    );
    let requestName = running?.metadata.name;
    if (running) log(`continuing with Restart request ${requestName} from an earlier run`);
    else if (dryRun === 'client') {
      log(`would create a SinglestoreOpsRequest (Restart)${dry}`);
      return petSets;
    } else {
      const created = await client.create<OpsRequest>(
        Resources.opsRequest,
        namespace,
        opsRequestBody(db, 'restart', { type: 'Restart', databaseRef: { name }, restart: {} }),
        dryRun,
      );
      requestName = created.metadata.name;
      log(`created SinglestoreOpsRequest ${namespace}/${requestName} (Restart)${dry}`);
    }
    if (dryRun === 'none' && wait) await waitFor(context, opsRequestStep(namespace, requestName as string));
    return petSets;
  }
  const restarted: string[] = [];
  for (const petSetName of petSets) {
    const petSet = await client.find<PetSet>(Resources.petset, namespace, petSetName);
    if (!petSet) continue;
    const previous = petSet.spec.template.metadata?.annotations?.[restartedAtAnnotation];
    if (previous && Date.parse(previous) >= Date.parse(newestIssued)) {
      log(`PetSet ${petSetName} was already restarted at ${previous}, after the certificates were issued`);
      restarted.push(petSetName);
      continue;
    }
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (dryRun === 'client') {
      log(`would restart PetSet ${namespace}/${petSetName} (${restartedAtAnnotation}=${at})${dry}`);
    } else {
      await client.patch(
        Resources.petset,
        namespace,
        petSetName,
        { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: at } } } } },
        { dryRun },
      );
      log(`restarted PetSet ${namespace}/${petSetName} (${restartedAtAnnotation}=${at})${dry}`);
    }
    restarted.push(petSetName);
  }
  return restarted;
}

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
  const dry = dryRun === 'none' ? '' : ' (dry run)';
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
