/**
 * TEST-ONLY: the KubeDB stand-in controller of the local test cluster (scripts/test-cluster).
 * KubeDB's provisioner and ops manager are licensed and not available here, and no PetSet controller
 * or container runtime runs in the test cluster; this process plays their parts so that the REAL
 * cert-manager has Certificates to issue, the plugin sees the objects KubeDB would create, and (with
 * --runtime-dir) every pod serves a real MariaDB server behind kwok's port-forwarding. Never shipped.
 *
 *   node --import tsx test/standin/main.ts --kubeconfig FILE [--ready-file FILE] [--runtime-dir DIR]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createFactory } from '../../src/kube/factory.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { type ObservedEvent, observe } from '../../src/kube/observe.ts';
import { silentLog } from '../../src/kube/request-log.ts';
import { Resources, type ResourceType } from '../../src/kube/resources.ts';
import type { Pod } from '../../src/kubedb/types.ts';
import { reconcileOpsRequest } from './ops-manager.ts';
import {
  fakeNodeName,
  forceDeleteIfTerminating,
  petSetOwnerOf,
  reconcilePetSet,
} from './petset-controller.ts';
import { reconcileSinglestore } from './provisioner.ts';
import { ContainerRuntime } from './runtime.ts';
import { WorkQueue } from './work-queue.ts';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'ready-file': { type: 'string' },
    'runtime-dir': { type: 'string' },
  },
});
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
const { client } = createFactory(
  { kubeconfig: values.kubeconfig, context: 'admin' },
  { env: {} },
  silentLog,
  log,
);
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
process.on('SIGINT', () => stop.abort());

const runtimeDir = values['runtime-dir'];
const runtime = runtimeDir ? new ContainerRuntime(client, runtimeDir, log) : undefined;
await runtime?.init();

const queue = new WorkQueue(async (key) => {
  const [kind, namespace, name] = key.split('/') as [string, string, string];
  if (kind === 'singlestore') return reconcileSinglestore(client, namespace, name);
  if (kind === 'ops') return reconcileOpsRequest(client, namespace, name);
  if (kind === 'pod') return runtime?.syncPod(namespace, name).then(() => undefined);
  return reconcilePetSet(client, namespace, name, runtime);
}, log);

function keysOf<T extends KubeObject>(kind: string, event: ObservedEvent<T>): string[] {
  const objects = event.type === 'sync' ? event.objects : [event.object];
  return objects.map((object) => `${kind}/${object.metadata.namespace}/${object.metadata.name}`);
}

function enqueue<T extends KubeObject>(kind: string, event: ObservedEvent<T>): void {
  for (const key of keysOf(kind, event)) queue.add(key);
}

const synced = new Set<string>();
function watchKind<T extends KubeObject>(
  type: ResourceType,
  handle: (event: ObservedEvent<T>) => Promise<void> | void,
) {
  return observe<T>(
    client,
    type,
    { signal: stop.signal, onError: (error) => log(`${type.plural}: ${error}`) },
    async (event) => {
      await handle(event);
      if (event.type === 'sync' && !synced.has(type.plural)) {
        synced.add(type.plural);
        if (synced.size === 4 && values['ready-file']) writeFileSync(values['ready-file'], 'ready\n');
      }
    },
  );
}

log('KubeDB stand-in (test-only) starting');
await Promise.all([
  watchKind(Resources.singlestore, (event) => enqueue('singlestore', event)),
  watchKind(Resources.opsRequest, (event) => enqueue('ops', event)),
  watchKind(Resources.petset, (event) => enqueue('petset', event)),
  watchKind<Pod>(Resources.pod, async (event) => {
    const pods = event.type === 'sync' ? event.objects : [event.object];
    for (const pod of pods) {
      if (pod.spec?.nodeName === fakeNodeName)
        queue.add(`pod/${pod.metadata.namespace}/${pod.metadata.name}`);
      await forceDeleteIfTerminating(client, pod);
      const owner = petSetOwnerOf(pod);
      // A PetSet's status follows its pods (gone, or Ready once their server greets), as a controller watching pods does.
      if (event.type !== 'sync' && owner) queue.add(`petset/${pod.metadata.namespace}/${owner}`);
    }
  }),
]);
queue.stop();
await runtime?.stopAll();
log('KubeDB stand-in stopped');
