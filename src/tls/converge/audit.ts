/**
 * The audit trail: every change records an Event on the Singlestore, so `kubectl describe
 * singlestore NAME` shows who did what. Written through events.k8s.io/v1 (which requires
 * reportingController, reportingInstance, action and eventTime: kubernetes pkg/apis/core/validation
 * ValidateEventCreate) and read back by `kubectl describe` as core v1 events, where the "From"
 * column is the reporting controller. The user is the one the API server authenticated (a
 * SelfSubjectReview); where that is not allowed the note says the user is unknown.
 */
import { hostname } from 'node:os';
import { ApiError } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { Resources } from '../../kube/resources.ts';
import { whoAmI } from '../../kube/whoami.ts';
import type { Singlestore } from '../../kubedb/types.ts';
import type { AuditReason } from './model.ts';

export const reportingController = 'kubectl-singlestore';

const actions: Record<AuditReason, string> = {
  TLSEnabled: 'EnableTLS',
  TLSRotationStarted: 'RotateTLS',
  TLSRotated: 'RotateTLS',
  TLSDisabled: 'DisableTLS',
};

export interface Auditor {
  record(db: Singlestore, event: { reason: AuditReason; note: string; opsRequest?: string }): Promise<void>;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function auditEvent(
  db: Singlestore,
  event: { reason: AuditReason; note: string; opsRequest?: string; user: string; at: Date },
): KubeObject {
  const by = `by ${event.user}${event.opsRequest ? ` (SinglestoreOpsRequest ${event.opsRequest})` : ''}`;
  const body = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    // `<db>.tls-<random>`: a generateName may end with a dash, not a dot (ValidateObjectMeta).
    metadata: { generateName: `${db.metadata.name.slice(0, 200)}.tls-`, namespace: db.metadata.namespace },
    eventTime: microTime(event.at),
    reportingController,
    reportingInstance: `${reportingController}@${hostname()}`.slice(0, 128),
    action: actions[event.reason],
    reason: event.reason,
    type: 'Normal',
    regarding: {
      apiVersion: db.apiVersion ?? 'kubedb.com/v1alpha2',
      kind: 'Singlestore',
      namespace: db.metadata.namespace,
      name: db.metadata.name,
      ...(db.metadata.uid ? { uid: db.metadata.uid } : {}),
    },
    // The API server caps a note at 1 kB.
    note: `${event.note} ${by}`.slice(0, 1024),
  };
  return body as unknown as KubeObject;
}

/** Records Events; a refusal (no `create events` permission) is one warning, never a failure. */
export function createAuditor(
  client: KubeClient,
  settings: { now: () => Date; warn: (line: string) => void },
): Auditor {
  let user: Promise<string> | undefined;
  let warned = false;
  const who = () => {
    user ??= whoAmI(client).then(
      (info) => info.username || 'an unnamed user',
      (error: unknown) =>
        `an unknown user (the API server did not say: ${error instanceof Error ? error.message : String(error)})`,
    );
    return user;
  };
  return {
    async record(db, event) {
      try {
        await client.create(
          Resources.auditEvent,
          db.metadata.namespace,
          auditEvent(db, { ...event, user: await who(), at: settings.now() }),
        );
      } catch (error) {
        if (!(error instanceof ApiError) || warned) return;
        warned = true;
        settings.warn(
          `WARNING: the audit Event ${event.reason} was not recorded on Singlestore ${db.metadata.namespace}/${db.metadata.name}: ${error.message} (docs/rbac.yaml grants create on events.k8s.io events)`,
        );
      }
    },
  };
}
