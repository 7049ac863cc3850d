/** What a PetSet's spec and status say about TLS and rollouts: one rule for status, waits and tests. */
import type { PetSet } from './types.ts';

/** kubectl rollout status for a StatefulSet, for PetSets: generation observed, all updated and ready, one revision. */
export function rolledOut(petSet: PetSet): boolean {
  const status = petSet.status ?? {};
  const replicas = petSet.spec?.replicas ?? 1;
  return (
    (status.observedGeneration ?? 0) >= (petSet.metadata.generation ?? 0) &&
    (status.updatedReplicas ?? 0) >= replicas &&
    (status.readyReplicas ?? 0) >= replicas &&
    (!status.updateRevision || status.updateRevision === status.currentRevision)
  );
}

/** The Secrets the pod template mounts, as plain secret volumes or projected sources. */
export function mountedSecrets(petSet: PetSet): Set<string> {
  const names = new Set<string>();
  for (const volume of petSet.spec.template.spec?.volumes ?? []) {
    if (volume.secret?.secretName) names.add(volume.secret.secretName);
    for (const source of volume.projected?.sources ?? [])
      if (source.secret?.name) names.add(source.secret.name);
  }
  return names;
}
