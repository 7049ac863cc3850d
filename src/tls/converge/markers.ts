/**
 * What a run leaves behind so a re-run can find it: annotations on Certificates (where a
 * cert-manager renewal started, and when a rotation finished) and on this tool's ops requests
 * (which operation, which settings, the serials a rotation started from). Pure: parse and format.
 */
import { findCondition } from '../../kube/objects.ts';
import type { Certificate, OpsRequest } from '../../kubedb/types.ts';
import { byText } from '../../util/compare.ts';
import { rerunWindowMs } from './model.ts';

/** Marks a Certificate whose re-issue this tool asked for, with the revision and serial it started from. */
export const rotateFromAnnotation = 'kubectl-singlestore.kubedb.com/rotate-from-revision';
/** Marks a Certificate whose rotation this tool saw through: the revision it ended at, and when. */
export const rotatedAnnotation = 'kubectl-singlestore.kubedb.com/rotated';
/** The spec.tls an enable ops request of ours asks for, so a re-run recognises it. */
export const specHashAnnotation = 'kubectl-singlestore.kubedb.com/spec-hash';
/** The serials (by Secret) a rotation ops request started from: a re-run waits for others. */
export const rotateFromSerialsAnnotation = 'kubectl-singlestore.kubedb.com/rotate-from-serials';
/** On a Singlestore whose spec.tls this tool reconfigured by a patch: when (its pods need a restart). */
export const reconfiguredAnnotation = 'kubectl-singlestore.kubedb.com/tls-reconfigured-at';
export const operationAnnotation = 'kubectl-singlestore.kubedb.com/operation';
export const managedBy = { 'app.kubernetes.io/managed-by': 'kubectl-singlestore' };
export const terminalPhases = new Set(['Successful', 'Failed', 'Denied', 'Skipped']);

export interface RenewalMarker {
  revision: number;
  at: string;
  serial?: string;
}

export function formatRenewalMarker(marker: RenewalMarker): string {
  return `${marker.revision}@${marker.at}@${marker.serial ?? ''}`;
}

/**
 * The renewal an earlier run started, if recent enough to be the one being re-run; a marker left by
 * a run abandoned long ago does not stop a new rotation.
 */
export function liveRenewalMarker(value: string | undefined, now: Date): RenewalMarker | undefined {
  const match = /^(\d+)@([^@]+)@([0-9a-f]*)$/.exec(value ?? '');
  if (!match || !within(match[2] as string, now)) return undefined;
  return { revision: Number(match[1]), at: match[2] as string, ...(match[3] ? { serial: match[3] } : {}) };
}

export function formatRotatedMarker(revision: number, at: Date): string {
  return `${revision}@${at.toISOString()}`;
}

/** When this tool finished rotating the Certificate, if that is still its revision and within the window. */
export function recentRotation(certificate: Certificate | undefined, now: Date): string | undefined {
  const match = /^(\d+)@(.+)$/.exec(certificate?.metadata.annotations?.[rotatedAnnotation] ?? '');
  if (!match || Number(match[1]) !== (certificate?.status?.revision ?? 0)) return undefined;
  return within(match[2] as string, now) ? (match[2] as string) : undefined;
}

export function within(at: string, now: Date, windowMs = rerunWindowMs): boolean {
  const time = Date.parse(at);
  return Number.isFinite(time) && now.getTime() - time < windowMs && time <= now.getTime() + 60_000;
}

export function phaseOf(request: OpsRequest): string {
  return request.status?.phase ?? 'Pending';
}

export function inFlight(request: OpsRequest): boolean {
  return !terminalPhases.has(phaseOf(request));
}

/** When the request reached its terminal phase (the condition KubeDB sets), else its creation. */
export function finishedAt(request: OpsRequest): string | undefined {
  const phase = phaseOf(request);
  const condition = findCondition(request.status?.conditions, phase);
  return condition?.lastTransitionTime ?? request.metadata.creationTimestamp;
}

/** This tool's ops requests for one operation (any phase), newest first. */
export function ownRequests(requests: OpsRequest[], operation: string): OpsRequest[] {
  return requests
    .filter(
      (request) =>
        request.metadata.labels?.['app.kubernetes.io/managed-by'] ===
          managedBy['app.kubernetes.io/managed-by'] &&
        request.metadata.annotations?.[operationAnnotation] === operation,
    )
    .sort((a, b) => byText(b.metadata.creationTimestamp ?? '', a.metadata.creationTimestamp ?? ''));
}

/** The serials a rotation request recorded at its creation (Secret name -> serial). */
export function rotateFromSerials(request: OpsRequest): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(request.metadata.annotations?.[rotateFromSerialsAnnotation] ?? '{}');
    if (!parsed || typeof parsed !== 'object') return {};
    return Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  } catch {
    return {};
  }
}
