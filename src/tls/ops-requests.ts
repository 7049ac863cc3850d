/**
 * The SinglestoreOpsRequests this tool creates: labelled so a re-run finds its own request still in
 * flight and continues with it instead of creating another.
 */
import type { KubeClient } from '../kube/client.ts';
import { Resources } from '../kube/resources.ts';
import type { OpsRequest, Singlestore } from '../kubedb/types.ts';

export const managedBy = { 'app.kubernetes.io/managed-by': 'kubectl-singlestore' };
export const operationAnnotation = 'kubectl-singlestore.kubedb.com/operation';
export const terminalPhases = new Set(['Successful', 'Failed', 'Denied', 'Skipped']);

export async function ownRequest(
  client: KubeClient,
  namespace: string,
  name: string,
  operation: string,
  matches: (request: OpsRequest) => boolean,
): Promise<OpsRequest | undefined> {
  const list = await client.list<OpsRequest>(Resources.opsRequest, {
    namespace,
    labelSelector: `app.kubernetes.io/instance=${name},app.kubernetes.io/managed-by=kubectl-singlestore`,
  });
  return list.items.find(
    (request) =>
      request.metadata.annotations?.[operationAnnotation] === operation &&
      matches(request) &&
      !terminalPhases.has(request.status?.phase ?? 'Pending'),
  );
}

/** A request named by the API server from `<db>-<operation>-`, marked as this tool's. */
export function opsRequestBody(
  db: Singlestore,
  operation: string,
  spec: OpsRequest['spec'],
  annotations: Record<string, string> = {},
): OpsRequest {
  const request = {
    apiVersion: 'ops.kubedb.com/v1alpha1',
    kind: 'SinglestoreOpsRequest',
    metadata: {
      generateName: `${db.metadata.name.slice(0, 40)}-${operation}-`,
      namespace: db.metadata.namespace,
      labels: { 'app.kubernetes.io/instance': db.metadata.name, ...managedBy },
      annotations: { [operationAnnotation]: operation, ...annotations },
    },
    spec,
  };
  return request as unknown as OpsRequest;
}
