/**
 * TEST-ONLY switches that hold the stand-in's work for one database at a chosen moment, so an
 * end-to-end test can interrupt the plugin there deterministically (not by timing luck) and let the
 * work go on by removing the annotation. Both are annotations on the Singlestore:
 *   standin.kubectl-singlestore.test/hold-ops-request: Pending | Progressing
 *     every SinglestoreOpsRequest of the database stays in that phase (Progressing: moved there, with
 *     nothing of its work done) until the annotation is removed or changed;
 *   standin.kubectl-singlestore.test/hold-rollout: aggregator,leaf (PetSet roles; `all` for every one)
 *     the PetSets of those roles replace no pod whose template is out of date: their rollout stays
 *     unfinished (updatedReplicas < replicas) until the annotation is removed.
 * Anything else in them is a mistake in a test and is reported as such.
 */
export const holdOpsRequestAnnotation = 'standin.kubectl-singlestore.test/hold-ops-request';
export const holdRolloutAnnotation = 'standin.kubectl-singlestore.test/hold-rollout';

export type HeldPhase = 'Pending' | 'Progressing';

/** The phase the database's ops requests are held in, if any. */
export function heldOpsPhase(annotations: Record<string, string> | undefined): HeldPhase | undefined {
  const value = annotations?.[holdOpsRequestAnnotation];
  if (value === undefined || value === '') return undefined;
  if (value === 'Pending' || value === 'Progressing') return value;
  throw new Error(`${holdOpsRequestAnnotation}: "${value}" is neither Pending nor Progressing`);
}

/** Whether the rollout of a PetSet of this role is held. */
export function rolloutHeld(annotations: Record<string, string> | undefined, role: string): boolean {
  const value = annotations?.[holdRolloutAnnotation];
  if (value === undefined || value === '') return false;
  const roles = value.split(',').map((item) => item.trim());
  const unknown = roles.filter((item) => !['all', 'aggregator', 'leaf', 'standalone'].includes(item));
  if (unknown.length)
    throw new Error(`${holdRolloutAnnotation}: unknown PetSet role(s) ${unknown.join(', ')}`);
  return roles.includes('all') || roles.includes(role);
}
