/**
 * TEST-ONLY stand-in for the PetSet controller and the kubelet's pod lifecycle (kwok, the kubelet of
 * the fake node, only serves the node and port-forwarding): keeps each PetSet's Pods in line with its
 * template, replacing them one by one from the highest ordinal on a template change, as a rolling
 * update does, and reports status like a StatefulSet. Pods run on the fake node; with a container
 * runtime (runtime.ts) each gets a real server and is reported Running/Ready, with a startTime, only
 * once that server accepts connections; deleted ones are force-deleted.
 */
import { createHash } from 'node:crypto';
import type { KubeClient } from '../../src/kube/client.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { PetSet, Pod, Singlestore } from '../../src/kubedb/types.ts';
import { rolloutHeld } from './holds.ts';
import type { ContainerRuntime } from './runtime.ts';

export const fakeNodeName = 'standin-node';
const revisionLabel = 'controller-revision-hash';
const petSetLabel = 'standin.kubectl-singlestore.test/petset';
/** Pause between rollout steps, so observers can see a rollout in progress. */
const stepMs = 150;
/** How often a held rollout looks whether it was released. */
const heldMs = 500;

export function templateRevision(petSet: PetSet): string {
  const hash = createHash('sha256').update(JSON.stringify(petSet.spec.template)).digest('hex').slice(0, 10);
  return `${petSet.metadata.name}-${hash}`;
}

export async function reconcilePetSet(
  client: KubeClient,
  namespace: string,
  name: string,
  runtime?: ContainerRuntime,
): Promise<number | undefined> {
  const petSet = await client.find<PetSet>(Resources.petset, namespace, name);
  if (!petSet || petSet.metadata.deletionTimestamp) return undefined;
  const replicas = petSet.spec.replicas ?? 1;
  const updateRevision = templateRevision(petSet);
  const pods = (
    await client.list<Pod>(Resources.pod, { namespace, labelSelector: `${petSetLabel}=${name}` })
  ).items.filter((pod) => !pod.metadata.deletionTimestamp);
  const byOrdinal = new Map(pods.map((pod) => [ordinalOf(pod.metadata.name), pod]));

  let changed = false;
  for (const [ordinal, pod] of byOrdinal) {
    if (ordinal >= replicas) {
      await client.delete(Resources.pod, namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
      changed = true;
    }
  }
  const missing = [...Array(replicas).keys()].find((ordinal) => !byOrdinal.has(ordinal));
  if (!changed && missing !== undefined) {
    // Like a kubelet, a pod does not start before the Secrets it mounts exist.
    if (!(await mountedSecretsExist(client, petSet))) return stepMs;
    await createPod(client, { petSet, ordinal: missing, revision: updateRevision, runtime });
    changed = true;
  }
  // Ready as the pod's condition says (the runtime sets it once the server greets), as a StatefulSet counts it.
  const isReady = (pod: Pod) =>
    (pod.status?.conditions ?? []).some(
      (condition) => condition.type === 'Ready' && condition.status === 'True',
    );
  let held = false;
  if (!changed) {
    const stale = [...byOrdinal.entries()]
      .filter(
        ([ordinal, pod]) => ordinal < replicas && pod.metadata.labels?.[revisionLabel] !== updateRevision,
      )
      .sort(([a], [b]) => b - a)[0];
    // A test holding this PetSet's rollout (holds.ts) keeps its out-of-date pods until released.
    held = stale !== undefined && (await rolloutHeldFor(client, petSet));
    if (stale && !held) {
      await client.delete(Resources.pod, namespace, stale[1].metadata.name, { gracePeriodSeconds: 0 });
      byOrdinal.delete(stale[0]);
      changed = true;
    }
  }
  const live = [...byOrdinal.values()];
  const updated = live.filter((pod) => pod.metadata.labels?.[revisionLabel] === updateRevision).length;
  const ready = live.filter(isReady).length;
  const done = !changed && updated === replicas && live.length === replicas && ready === replicas;
  const status = {
    observedGeneration: petSet.metadata.generation,
    replicas: live.length,
    readyReplicas: ready,
    availableReplicas: ready,
    updatedReplicas: updated,
    currentReplicas: done ? replicas : live.length - updated,
    updateRevision,
    currentRevision: done ? updateRevision : (petSet.status?.currentRevision ?? updateRevision),
  };
  if (JSON.stringify(pick(petSet.status ?? {}, status)) !== JSON.stringify(status)) {
    await client.patch(Resources.petset, { namespace, name }, { status }, { subresource: 'status' });
  }
  return done ? undefined : held ? heldMs : stepMs;
}

async function rolloutHeldFor(client: KubeClient, petSet: PetSet): Promise<boolean> {
  const db = petSet.metadata.labels?.['app.kubernetes.io/instance'];
  const role = petSet.metadata.labels?.['kubedb.com/role'];
  if (!db || !role) return false;
  const owner = await client.find<Singlestore>(Resources.singlestore, petSet.metadata.namespace, db);
  return rolloutHeld(owner?.metadata.annotations, role);
}

async function mountedSecretsExist(client: KubeClient, petSet: PetSet): Promise<boolean> {
  const names = (petSet.spec.template.spec?.volumes ?? []).flatMap((volume) => [
    ...(volume.secret ? [volume.secret.secretName] : []),
    ...(volume.projected?.sources ?? []).flatMap((source) => (source.secret ? [source.secret.name] : [])),
  ]);
  for (const name of names) {
    if (!(await client.find(Resources.secret, petSet.metadata.namespace, name))) return false;
  }
  return true;
}

function pick(from: Record<string, unknown>, like: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(like).map((key) => [key, from[key]]));
}

function ordinalOf(podName: string): number {
  return Number(/-(\d+)$/.exec(podName)?.[1] ?? -1);
}

interface NewPod {
  petSet: PetSet;
  ordinal: number;
  revision: string;
  runtime: ContainerRuntime | undefined;
}

async function createPod(client: KubeClient, { petSet, ordinal, revision, runtime }: NewPod): Promise<void> {
  const { namespace, name } = petSet.metadata;
  const template = petSet.spec.template;
  const pod = await client.create<Pod>(Resources.pod, namespace, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${name}-${ordinal}`,
      namespace,
      labels: { ...template.metadata?.labels, [petSetLabel]: name, [revisionLabel]: revision },
      annotations: template.metadata?.annotations ?? {},
      ownerReferences: [
        {
          apiVersion: 'apps.k8s.appscode.com/v1',
          kind: 'PetSet',
          name,
          uid: petSet.metadata.uid as string,
          controller: true,
        },
      ],
    },
    spec: {
      ...template.spec,
      nodeName: fakeNodeName,
      hostname: `${name}-${ordinal}`,
      subdomain: petSet.spec.serviceName,
    },
  } as Pod);
  // The pod starts now: its server reads the certificate files as they are at this moment.
  const now = new Date().toISOString();
  const failed = await runtime?.startPod(pod).then(
    () => undefined,
    (error: Error) => error.message,
  );
  await client.patch(
    Resources.pod,
    { namespace, name: pod.metadata.name },
    { status: podStatus({ containers: template.spec?.containers ?? [], now, failed }) },
    { subresource: 'status' },
  );
}

/**
 * Running and Ready once the pod's server accepts connections; when it could not start (e.g. a
 * Secret holding no valid certificate), Running but not Ready, its container waiting in
 * CrashLoopBackOff, as the kubelet reports a container that keeps failing.
 */
function podStatus(options: {
  containers: { name: string }[];
  now: string;
  failed: string | undefined;
}): Record<string, unknown> {
  const { containers, now, failed } = options;
  const ready = failed ? 'False' : 'True';
  return {
    phase: 'Running',
    startTime: now,
    conditions: [
      { type: 'Ready', status: ready, lastTransitionTime: now },
      { type: 'ContainersReady', status: ready, lastTransitionTime: now },
    ],
    containerStatuses: containers.map((container) => ({
      name: container.name,
      image: (container as { image?: string }).image ?? '',
      imageID: '',
      ready: !failed,
      started: !failed,
      restartCount: failed ? 1 : 0,
      state: failed
        ? { waiting: { reason: 'CrashLoopBackOff', message: failed } }
        : { running: { startedAt: now } },
    })),
  };
}

/** The kubelet's part: a pod marked for deletion goes away at once. */
export async function forceDeleteIfTerminating(client: KubeClient, pod: Pod): Promise<void> {
  if (!pod.metadata.deletionTimestamp || pod.spec?.nodeName !== fakeNodeName) return;
  try {
    await client.delete(Resources.pod, pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
  } catch {
    // Already gone.
  }
}

export function petSetOwnerOf(pod: Pod): string | undefined {
  return pod.metadata.labels?.[petSetLabel];
}
