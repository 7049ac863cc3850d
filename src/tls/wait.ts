/**
 * Waiting for the TLS path to settle, with watches (list, then watch from that resourceVersion,
 * re-list on 410 Gone): a step ends the moment the event that completes it arrives, a failure
 * (a Failed ops request, a failed issuance) ends it at once with its reason, and the deadline or
 * Ctrl-C ends it with the step it was stuck on. Shared by `tls enable --wait`, `tls rotate` and `tls disable --wait` (through the executor).
 */
import { ApiError, CliError, ExitCode, InterruptedError, TimeoutError } from '../errors.ts';
import type { KubeClient, ListOptions } from '../kube/client.ts';
import { findCondition, type KubeObject } from '../kube/objects.ts';
import { observe } from '../kube/observe.ts';
import { Resources, type ResourceType } from '../kube/resources.ts';
import { mountedSecrets, rolledOut } from '../kubedb/petset.ts';
import type { Certificate, OpsRequest, PetSet, Pod, Secret } from '../kubedb/types.ts';
import type { Progress } from '../output/progress.ts';
import { formatDuration } from '../util/duration.ts';
import { inspectTlsData, sameNotAfter } from './x509.ts';

export interface Verdict {
  done: boolean;
  /** What the step is waiting on now, for progress and for the timeout message. */
  detail: string;
  /** Ends the wait at once. */
  failure?: string;
}

export interface WaitStep<T extends KubeObject> {
  title: string;
  type: ResourceType;
  select: ListOptions;
  evaluate(objects: T[]): Verdict;
}

export interface WaitContext {
  client: KubeClient;
  progress: Progress;
  /** Aborted by Ctrl-C/SIGTERM. */
  interrupt: AbortSignal;
  /** Absolute deadline (performance.now() clock). */
  deadline: number;
  timeoutText: string;
}

/** How long a wait rides out an unreachable API server before it gives up. */
export const unreachableGraceMs = 10_000;

/** A Failed ops request or a failed issuance: the wait ends at once with the reason. */
export class StepFailed extends CliError {
  constructor(message: string) {
    super(message, ExitCode.runtime);
  }
}

export async function waitFor<T extends KubeObject>(context: WaitContext, step: WaitStep<T>): Promise<T[]> {
  const handle = context.progress.step(step.title);
  const remaining = context.deadline - performance.now();
  const timeout = AbortSignal.timeout(Math.max(Math.ceil(remaining), 1));
  const stop = new AbortController();
  const signal = AbortSignal.any([context.interrupt, timeout, stop.signal]);
  const objects = new Map<string, T>();
  let last: Verdict = { done: false, detail: 'listing' };
  let outcome: { objects: T[] } | { failure: string } | undefined;
  let fatal: ApiError | undefined;
  let unreachableSince: number | undefined;
  // A dropped connection is retried (re-list, re-watch); an API server gone for longer, or a
  // refusal that retrying cannot fix, ends the wait with that error.
  const onError = (error: unknown) => {
    if (!(error instanceof ApiError)) return;
    if (error.status === 0) {
      unreachableSince ??= performance.now();
      if (performance.now() - unreachableSince < unreachableGraceMs) return;
    } else if (error.status !== 401 && error.status !== 403 && error.status !== 404) {
      return;
    }
    fatal = error;
    stop.abort();
  };
  const judge = () => {
    last = step.evaluate([...objects.values()]);
    if (last.failure) outcome = { failure: last.failure };
    else if (last.done) outcome = { objects: [...objects.values()] };
    else handle.update(last.detail);
    if (outcome) stop.abort();
  };
  await observe<T>(context.client, step.type, { ...step.select, signal, onError }, (event) => {
    unreachableSince = undefined;
    if (event.type === 'sync') {
      objects.clear();
      for (const object of event.objects) objects.set(object.metadata.name, object);
    } else if (event.type === 'DELETED') {
      objects.delete(event.object.metadata.name);
    } else {
      objects.set(event.object.metadata.name, event.object);
    }
    judge();
  });
  if (outcome && 'objects' in outcome) {
    handle.done(last.detail);
    return outcome.objects;
  }
  if (outcome) {
    handle.fail(outcome.failure);
    throw new StepFailed(`${step.title}: ${outcome.failure}`);
  }
  handle.fail(last.detail);
  if (fatal) throw fatal;
  if (context.interrupt.aborted) {
    throw new InterruptedError(
      `interrupted while waiting for ${step.title} (${last.detail}); nothing is half-applied: re-run the same command to continue`,
    );
  }
  throw new TimeoutError(`timed out after ${context.timeoutText} waiting for ${step.title}: ${last.detail}`);
}

/** The ops request reaches Successful; Failed ends the wait with KubeDB's reason. */
export function opsRequestStep(namespace: string, name: string): WaitStep<OpsRequest> {
  return {
    title: `SinglestoreOpsRequest ${name}`,
    type: Resources.opsRequest,
    select: { namespace, fieldSelector: `metadata.name=${name}` },
    evaluate: ([request]) => {
      const phase = request?.status?.phase ?? 'Pending';
      if (phase === 'Successful') return { done: true, detail: 'Successful' };
      if (['Failed', 'Denied', 'Skipped'].includes(phase)) {
        const reason = [...(request?.status?.conditions ?? [])]
          .reverse()
          .find((condition) => condition.message)?.message;
        return {
          done: false,
          detail: phase,
          failure: `the ops request is ${phase}${reason ? `: ${reason}` : ''}`,
        };
      }
      return { done: false, detail: `phase ${phase}` };
    },
  };
}

/** Every named Certificate Ready (at a revision above `after`, when given); a failed issuance ends the wait. */
export function certificatesStep(
  namespace: string,
  names: string[],
  after: Map<string, number> = new Map(),
): WaitStep<Certificate> {
  return {
    title: 'Certificates Ready',
    type: Resources.certificate,
    select: { namespace },
    evaluate: (certificates) => {
      const waiting: string[] = [];
      for (const name of names) {
        const certificate = certificates.find((item) => item.metadata.name === name);
        if (!certificate) {
          waiting.push(`${name} not created yet`);
          continue;
        }
        const ready = findCondition(certificate.status?.conditions, 'Ready');
        const issuing = findCondition(certificate.status?.conditions, 'Issuing');
        if (
          issuing?.status === 'False' &&
          issuing.reason === 'Failed' &&
          certificate.status?.lastFailureTime
        ) {
          const previous = after.get(name);
          if (previous === undefined || (certificate.status.revision ?? 0) <= previous) {
            return {
              done: false,
              detail: `${name} failed`,
              failure: `certificate ${name}: ${issuing.message ?? 'issuance failed'}`,
            };
          }
        }
        const revision = certificate.status?.revision ?? 0;
        const reissued = revision > (after.get(name) ?? 0);
        // A Ready condition from before the spec last changed says nothing about the new spec.
        const current =
          ready?.observedGeneration === undefined ||
          ready.observedGeneration >= (certificate.metadata.generation ?? 0);
        if (ready?.status !== 'True' || !current || !reissued || issuing?.status === 'True') {
          waiting.push(
            `${name} ${issuing?.status === 'True' ? 'issuing' : ready?.reason ? `not Ready (${ready.reason})` : 'not Ready'}`,
          );
        }
      }
      const ready = names.length - waiting.length;
      return {
        done: waiting.length === 0,
        detail: waiting.length
          ? `${ready}/${names.length} ready; ${waiting.join(', ')}`
          : `${names.length}/${names.length} ready`,
      };
    },
  };
}

/** Each Secret holds a certificate that parses, chains to ca.crt and matches its key (serial not in `old`). */
export function secretsStep(
  namespace: string,
  names: string[],
  oldSerials: Map<string, string> = new Map(),
): WaitStep<Secret> {
  return {
    title: 'TLS Secrets populated',
    type: Resources.secret,
    select: { namespace, fieldSelector: 'type=kubernetes.io/tls' },
    evaluate: (secrets) => {
      const waiting: string[] = [];
      for (const name of names) {
        const secret = secrets.find((item) => item.metadata.name === name);
        const facts = secret ? inspectTlsData(decodeTls(secret)) : undefined;
        if (!facts?.certificate) waiting.push(`${name} ${secret ? 'has no certificate' : 'missing'}`);
        else if (facts.certificate.serialNumber === oldSerials.get(name))
          waiting.push(`${name} still holds the old certificate`);
        else if (facts.signedByCa !== 'signed' || facts.key !== 'matches')
          waiting.push(`${name}: ca.crt ${facts.signedByCa}, key ${facts.key}`);
      }
      return {
        done: waiting.length === 0,
        detail: waiting.length ? waiting.join(', ') : `${names.length} Secret(s) valid`,
      };
    },
  };
}

/**
 * cert-manager's record caught up with the Secret it wrote: each Certificate's status.notAfter is its
 * Secret's (`notAfter`, by Certificate name). The issuing controller writes the Secret and the revision;
 * its readiness controller sets status.notAfter a moment later, and the final check (diagnose.ts, with
 * the same sameNotAfter) would report the two as disagreeing in between.
 */
export function certificateStatusStep(
  namespace: string,
  notAfter: Map<string, string>,
): WaitStep<Certificate> {
  return {
    title: 'Certificate status updated',
    type: Resources.certificate,
    select: { namespace },
    evaluate: (certificates) => {
      const waiting: string[] = [];
      for (const [name, expected] of notAfter) {
        const status = certificates.find((item) => item.metadata.name === name)?.status?.notAfter;
        if (!status || !sameNotAfter(status, expected))
          waiting.push(`${name} still says notAfter ${status ?? '(none)'}`);
      }
      return {
        done: waiting.length === 0,
        detail: waiting.length
          ? waiting.join(', ')
          : `${notAfter.size} Certificate(s) agree with their Secrets`,
      };
    },
  };
}

export function decodeTls(secret: Secret): { 'tls.crt'?: string; 'tls.key'?: string; 'ca.crt'?: string } {
  const read = (key: string) =>
    secret.data?.[key] ? Buffer.from(secret.data[key] as string, 'base64').toString('utf8') : undefined;
  return { 'tls.crt': read('tls.crt'), 'tls.key': read('tls.key'), 'ca.crt': read('ca.crt') };
}

/** Every named PetSet rolled out (and mounting `secrets`, when given; no longer mounting `absent`). */
export function rolloutStep(
  namespace: string,
  names: string[],
  secrets: string[] = [],
  absent: string[] = [],
): WaitStep<PetSet> {
  return {
    title: 'PetSets rolled out',
    type: Resources.petset,
    select: { namespace },
    evaluate: (petSets) => {
      const waiting: string[] = [];
      for (const name of names) {
        const petSet = petSets.find((item) => item.metadata.name === name);
        if (!petSet) {
          waiting.push(`${name} missing`);
          continue;
        }
        const mounted = mountedSecrets(petSet);
        const unmounted = secrets.filter((secret) => !mounted.has(secret));
        const still = absent.filter((secret) => mounted.has(secret));
        const status = petSet.status ?? {};
        if (unmounted.length) waiting.push(`${name} does not mount ${unmounted.join(', ')} yet`);
        else if (still.length) waiting.push(`${name} still mounts ${still.join(', ')}`);
        else if (!rolledOut(petSet))
          waiting.push(
            `${name} ${status.updatedReplicas ?? 0}/${petSet.spec.replicas ?? 1} updated, ${status.readyReplicas ?? 0} ready`,
          );
      }
      return {
        done: waiting.length === 0,
        detail: waiting.length ? waiting.join(', ') : `${names.length} PetSet(s) rolled out`,
      };
    },
  };
}

export function deadlineFrom(timeoutMs: number): { deadline: number; timeoutText: string } {
  return { deadline: performance.now() + timeoutMs, timeoutText: formatDuration(timeoutMs) };
}

/** A deleted pod is back under the same name (a new UID), running and Ready, as its PetSet recreates it. */
export function podReplacedStep(namespace: string, name: string, oldUid: string): WaitStep<Pod> {
  return {
    title: `pod ${name} replaced`,
    type: Resources.pod,
    select: { namespace, fieldSelector: `metadata.name=${name}` },
    evaluate: ([pod]) => {
      if (!pod || pod.metadata.uid === oldUid) return { done: false, detail: `${name} not replaced yet` };
      const ready = findCondition(pod.status?.conditions, 'Ready')?.status === 'True';
      if (pod.status?.phase !== 'Running' || !ready || pod.metadata.deletionTimestamp)
        return {
          done: false,
          detail: `${name} is ${pod.status?.phase ?? 'Pending'}${ready ? '' : ', not Ready'}`,
        };
      return { done: true, detail: `${name} running and Ready` };
    },
  };
}
