/**
 * Gather for `tls report`: the status snapshot (with the wire probe where allowed) plus what the
 * status does not read: the Services and every Event of the databases' namespaces, the API server's
 * version and the controllers' Deployments. Every call that is refused becomes data (`Listed`).
 */
import { ApiError } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { Resources, type ResourceType } from '../../kube/resources.ts';
import {
  type GatherOptions,
  gather,
  type KubeEvent,
  type Listed,
  type Scope,
  type Snapshot,
} from '../gather.ts';

export interface Deployment extends KubeObject {
  spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
}

export interface ServerVersion {
  gitVersion?: string;
  platform?: string;
}

export interface Collected {
  snapshot: Snapshot;
  services: Listed<KubeObject>;
  events: Listed<KubeEvent>;
  serverVersion: { ok: true; value: ServerVersion } | { ok: false; message: string };
  /** cert-manager's and KubeDB's controllers, cluster-wide, for their versions. */
  deployments: Listed<Deployment>;
}

const deployment: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
const kubedbSelector = 'app.kubernetes.io/name=singlestores.kubedb.com';
const controllersSelector =
  'app.kubernetes.io/name in (cert-manager,kubedb-provisioner,kubedb-ops-manager,kubedb)';

export async function collect(client: KubeClient, scope: Scope, options: GatherOptions): Promise<Collected> {
  const namespace = scope.namespace;
  const [snapshot, services, events, serverVersion, deployments] = await Promise.all([
    gather(client, scope, options),
    listed<KubeObject>(() => client.list(Resources.service, { namespace, labelSelector: kubedbSelector })),
    listed<KubeEvent>(() => client.list(Resources.event, { namespace })),
    client
      .getRaw<ServerVersion>('/version', 'read the API server version')
      .then((value) => ({ ok: true as const, value }))
      .catch((error: unknown) => {
        if (!(error instanceof ApiError)) throw error;
        return { ok: false as const, message: error.message };
      }),
    listed<Deployment>(() => client.list(deployment, { labelSelector: controllersSelector })),
  ]);
  return { snapshot, services, events, serverVersion, deployments };
}

async function listed<T extends KubeObject>(
  list: () => Promise<{ items: KubeObject[] }>,
): Promise<Listed<T>> {
  try {
    return { ok: true, items: (await list()).items as T[] };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 0 || error.status === 401) throw error;
    return {
      ok: false,
      reason: error.isForbidden ? 'forbidden' : error.status === 404 ? 'not-served' : 'error',
      message: error.message,
    };
  }
}
