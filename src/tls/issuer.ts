/** Whether an Issuer or ClusterIssuer can issue: one rule for `tls status` and `tls enable`'s preflight. */
import { findCondition } from '../kube/objects.ts';
import type { Issuer } from '../kubedb/types.ts';

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
