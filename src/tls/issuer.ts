/** Whether an Issuer or ClusterIssuer can issue: one rule for `tls status` and `tls enable`'s preflight. */
import type { KubeClient } from '../kube/client.ts';
import { findCondition } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import type { Issuer, IssuerRef } from '../kubedb/types.ts';

export interface IssuerReadiness {
  found: boolean;
  ready: boolean;
  message?: string;
}

export function issuerReadiness(issuer: Issuer | undefined): IssuerReadiness {
  if (!issuer) return { found: false, ready: false };
  const ready = findCondition(issuer.status?.conditions, 'Ready');
  if (ready?.status === 'True') return { found: true, ready: true };
  return { found: true, ready: false, message: ready?.message ?? 'no Ready condition yet' };
}

/** GET the Issuer (in the namespace) or ClusterIssuer a reference names, and say whether it can issue. */
export async function lookupIssuer(
  client: KubeClient,
  namespace: string | undefined,
  ref: IssuerRef,
): Promise<IssuerReadiness & { cluster: boolean; issuer?: Issuer }> {
  const cluster = ref.kind === 'ClusterIssuer';
  const issuer = await client.find<Issuer>(
    cluster ? Resources.clusterIssuer : Resources.issuer,
    cluster ? undefined : namespace,
    ref.name,
  );
  return { cluster, ...issuerReadiness(issuer), ...(issuer ? { issuer } : {}) };
}
