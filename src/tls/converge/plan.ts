/**
 * The planners of `tls enable`, `tls rotate` and `tls disable`: pure functions of a gathered
 * snapshot and typed options that return what is left to do, as typed actions. A re-run after an
 * interrupt plans from what the earlier run left (its ops request in any phase, its markers, the
 * certificates issued and pods restarted since), so it never issues or restarts twice. Modelled on
 * kubectl's `set image` (compute the patches, then one apply loop) and changesets'
 * assemble-release-plan / apply-release-plan split.
 */
import { createHash } from 'node:crypto';
import { CliError, ExitCode } from '../../errors.ts';
import { findCondition } from '../../kube/objects.ts';
import type { OpsRequest, PetSet, Singlestore, TlsConfig } from '../../kubedb/types.ts';
import { invalidIssuerRef } from '../ca.ts';
import { nextIssuanceAttempt } from '../diagnose.ts';
import { sameTls, tlsDiff } from '../spec.ts';
import {
  finishedAt,
  inFlight,
  liveRenewalMarker,
  managedBy,
  operationAnnotation,
  ownRequests,
  phaseOf,
  recentRotation,
  reconfiguredAnnotation,
  rotateFromAnnotation,
  rotateFromSerials,
  rotateFromSerialsAnnotation,
  specHashAnnotation,
  within,
} from './markers.ts';
import type {
  Action,
  CertificateState,
  ConvergeSnapshot,
  IssuerState,
  Plan,
  PlanOptionsBase,
  Renewal,
} from './model.ts';

export type ChangeMethod = 'auto' | 'ops-request' | 'patch';

/** Refusals: the cluster is not in a state where the command may act; nothing was written. */
export function refuse(message: string): CliError {
  return new CliError(message, ExitCode.runtime);
}

/** One wording for "the ops manager is needed but missing", whichever flag asked for it. */
export function opsManagerMissing(flag: string): CliError {
  return refuse(
    `${flag}: KubeDB's ops manager is not installed (singlestoreopsrequests.ops.kubedb.com is not served)`,
  );
}

export function issuerText(tls: TlsConfig | undefined): string {
  return `${tls?.issuerRef?.kind ?? 'Issuer'} "${tls?.issuerRef?.name}"`;
}

export function specHash(tls: TlsConfig): string {
  return createHash('sha256').update(JSON.stringify(tls)).digest('hex').slice(0, 16);
}

/**
 * Whether an issuer can issue, in one wording for enable and rotate. Returns a warning when `force`
 * lets a not-Ready issuer through; throws otherwise.
 */
export function checkIssuer(
  issuer: IssuerState | undefined,
  context: { force: boolean; consequence: string; missingHint?: string },
): string | undefined {
  if (!issuer) return undefined;
  if (!issuer.found)
    throw refuse(`${issuer.what} does not exist: ${context.missingHint ?? context.consequence}`);
  if (issuer.ready) return undefined;
  if (!context.force)
    throw refuse(`${issuer.what} is not Ready: ${issuer.message}; ${context.consequence}, or pass --force`);
  return `WARNING: ${issuer.what} is not Ready (${issuer.message}); going on because of --force`;
}

/** Whether KubeDB provisioned the database (an ops request needs a running one). */
function provisioned(db: Singlestore): boolean {
  return (
    db.status?.phase === 'Ready' || findCondition(db.status?.conditions, 'Provisioned')?.status === 'True'
  );
}

/** How spec.tls is changed: an ops request where KubeDB can take one, else a patch (and why). */
export function chooseMethod(
  method: ChangeMethod,
  snapshot: Pick<ConvergeSnapshot, 'opsManager' | 'db'>,
  change: 'add' | 'remove',
): { use: 'ops-request' | 'patch'; why: string } {
  const { db, opsManager } = snapshot;
  if (method === 'patch') return { use: 'patch', why: 'as asked (--method patch)' };
  if (method === 'ops-request') {
    if (!opsManager) throw opsManagerMissing('--method ops-request');
    return { use: 'ops-request', why: 'as asked (--method ops-request)' };
  }
  if (!opsManager)
    return {
      use: 'patch',
      why:
        change === 'add'
          ? "KubeDB's ops manager is not installed, so spec.tls is patched directly"
          : "KubeDB's ops manager is not installed, so spec.tls is removed directly: KubeDB's provisioner then rebuilds the PetSets without the TLS volume and their pods restart, with no ops request to pause the database or check the result",
    };
  if (!provisioned(db)) {
    return {
      use: 'patch',
      why: `the database is not provisioned yet (phase ${db.status?.phase ?? 'unknown'}), so KubeDB applies spec.tls as it provisions`,
    };
  }
  return {
    use: 'ops-request',
    why: `the database is running, and an ops request is how KubeDB ${change === 'add' ? 'adds TLS to' : 'removes TLS from'} a running database`,
  };
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

/** The merge patch that sets spec.tls (dropping certificate settings the new spec does not give), or removes it. */
export function tlsPatch(
  current: Singlestore,
  tls: TlsConfig | null,
  annotations?: Record<string, string | null>,
): Record<string, unknown> {
  return {
    metadata: {
      resourceVersion: current.metadata.resourceVersion,
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      tls:
        tls === null
          ? null
          : {
              ...tls,
              certificates: tls.certificates ?? (current.spec?.tls?.certificates ? null : undefined),
            },
    },
  };
}

const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';

/** What a restart still has to do, given the newest certificate's notBefore and what earlier runs did. */
export function restartDecision(
  input: { petSets: { name: string; petSet?: PetSet }[]; requests: OpsRequest[]; newestIssue: string },
  via: 'ops-request' | 'annotation',
): {
  restart: string[];
  already: { petSet: string; at: string }[];
  continueWith?: string;
  doneBy?: { name: string; at: string };
} {
  const newest = Date.parse(input.newestIssue);
  if (via === 'ops-request') {
    const own = ownRequests(input.requests, 'restart').filter(
      (request) => Date.parse(request.metadata.creationTimestamp ?? '') >= newest,
    );
    const running = own.find(inFlight);
    if (running) return { restart: [], already: [], continueWith: running.metadata.name };
    const done = own.find((request) => phaseOf(request) === 'Successful');
    if (done)
      return { restart: [], already: [], doneBy: { name: done.metadata.name, at: finishedAt(done) ?? '' } };
    return { restart: input.petSets.filter((p) => p.petSet).map((p) => p.name), already: [] };
  }
  const restart: string[] = [];
  const already: { petSet: string; at: string }[] = [];
  for (const { name, petSet } of input.petSets) {
    if (!petSet) continue;
    const previous = petSet.spec.template.metadata?.annotations?.[restartedAtAnnotation];
    if (previous && Date.parse(previous) >= newest) already.push({ petSet: name, at: previous });
    else restart.push(name);
  }
  return { restart, already };
}

/** The newest notBefore among the certificates the Secrets hold (epoch when none). */
export function newestIssue(certificates: Pick<CertificateState, 'issued'>[]): string {
  return (
    certificates
      .map((entry) => entry.issued?.notBefore)
      .filter((value): value is string => Boolean(value))
      .sort()
      .at(-1) ?? new Date(0).toISOString()
  );
}

/** A re-run goes on with this tool's own request, said once. */
function continuing(namespace: string, request: OpsRequest): Action {
  return {
    kind: 'say',
    text: `SinglestoreOpsRequest ${namespace}/${request.metadata.name} from an earlier run is ${phaseOf(request)}: continuing with it`,
  };
}

/** Someone else's ReconfigureTLS request is in flight: a second one would race it. */
function inFlightRefusal(request: OpsRequest, name: string): CliError {
  return refuse(
    `SinglestoreOpsRequest ${request.metadata.name} (ReconfigureTLS) for ${name} is ${phaseOf(request)}: wait for it to finish, or delete it`,
  );
}

function names(snapshot: ConvergeSnapshot) {
  const { db } = snapshot;
  return {
    namespace: db.metadata.namespace as string,
    name: db.metadata.name,
    certificates: snapshot.certificates.map((entry) => entry.name),
    secrets: snapshot.certificates.map((entry) => entry.secret),
    petSets: snapshot.petSets.map((entry) => entry.name),
  };
}

function plan(
  snapshot: ConvergeSnapshot,
  fields: Omit<Plan, 'namespace' | 'name' | 'warnings'> & { warnings?: string[] },
): Plan {
  const { namespace, name } = names(snapshot);
  return { namespace, name, warnings: [], ...fields };
}

/** The waits that follow a change of spec.tls, through to the final check. */
function enabledWaits(
  snapshot: ConvergeSnapshot,
  tlsCertificateNames: { certificates: string[]; secrets: string[] },
  extra: { opsRequest?: string | true; after?: Record<string, number>; restart?: boolean },
): Action[] {
  const { petSets } = names(snapshot);
  return [
    ...(extra.opsRequest
      ? [
          {
            kind: 'wait',
            wait: { step: 'ops-request', ...(extra.opsRequest === true ? {} : { name: extra.opsRequest }) },
          } as Action,
        ]
      : []),
    {
      kind: 'wait',
      wait: { step: 'certificates', names: tlsCertificateNames.certificates, after: extra.after ?? {} },
    },
    { kind: 'wait', wait: { step: 'secrets', names: tlsCertificateNames.secrets, oldSerials: {} } },
    ...(extra.restart
      ? [
          {
            kind: 'restart',
            via: 'annotation',
            petSets,
            onlyOlderThanCertificates: true,
            wait: true,
          } as Action,
        ]
      : []),
    { kind: 'wait', wait: { step: 'rollout', petSets, mounted: tlsCertificateNames.secrets } },
    { kind: 'verify', expect: 'tls' },
  ];
}

// ---------------------------------------------------------------------------------------------
// enable

export interface EnablePlanOptions extends PlanOptionsBase {
  desired: TlsConfig;
  method: ChangeMethod;
  overwrite: boolean;
  /** The certificate names KubeDB will make for the desired spec.tls. */
  expected: { certificates: string[]; secrets: string[] };
  /** CA lints: warn when the CA expires within this, or before certificates of this lifetime. */
  warnWithinMs: number;
  durationMs: number;
  durationText: string;
}

export function planEnable(snapshot: ConvergeSnapshot, options: EnablePlanOptions): Plan {
  const { db, now } = snapshot;
  const { namespace, name } = names(snapshot);
  const { desired } = options;
  if (!snapshot.certManager) {
    throw refuse(
      'cert-manager is not installed (certificates.cert-manager.io is not served): install it first, https://cert-manager.io/docs/installation/',
    );
  }
  const ref = desired.issuerRef;
  const invalid = ref ? invalidIssuerRef(ref) : undefined;
  if (invalid) throw refuse(invalid);
  const warnings: string[] = [];
  const issuerWarning = checkIssuer(snapshot.issuer, {
    force: options.force,
    consequence: 'fix it first',
    missingHint: `create it first${snapshot.issuer?.cluster ? '' : ' (or pass --cluster-issuer for a ClusterIssuer)'}`,
  });
  if (issuerWarning) warnings.push(issuerWarning);
  warnings.push(...caLints(snapshot, options));
  const hash = specHash(desired);
  const waiting = options.wait && options.dryRun === 'none';

  const running = snapshot.opsRequests.find(
    (request) =>
      request.spec.type === 'ReconfigureTLS' && inFlight(request) && !request.spec.tls?.rotateCertificates,
  );
  if (running) {
    if (running.metadata.annotations?.[specHashAnnotation] !== hash) {
      throw inFlightRefusal(running, name);
    }
    return plan(snapshot, {
      operation: 'enable',
      method: 'ops-request',
      warnings,
      result: waiting ? 'enabled' : 'requested',
      actions: [
        continuing(namespace, running),
        ...(waiting ? enabledWaits(snapshot, options.expected, { opsRequest: running.metadata.name }) : []),
      ],
    });
  }
  if (sameTls(db.spec?.tls, desired)) {
    // A reconfiguration by patch re-issues the certificates of running pods: an interrupted run's
    // marker says the pods may still need the restart nothing else gives them.
    const reconfigured = db.metadata.annotations?.[reconfiguredAnnotation];
    return plan(snapshot, {
      operation: 'enable',
      method: 'none',
      warnings,
      upToDate: `TLS is already enabled on Singlestore ${namespace}/${name} with ${issuerText(desired)}: nothing to do`,
      result: 'up-to-date',
      actions: waiting
        ? enabledWaits(snapshot, options.expected, {
            restart: Boolean(reconfigured && within(reconfigured, now)),
          })
        : [],
    });
  }
  if (db.spec?.tls?.issuerRef && !options.overwrite) {
    throw refuse(
      `TLS is already enabled on Singlestore ${namespace}/${name} with other settings; pass --overwrite to reconfigure:\n${tlsDiff(db.spec.tls, desired)}`,
    );
  }
  const method = chooseMethod(options.method, snapshot, 'add');
  const reconfiguring = Boolean(db.spec?.tls?.issuerRef);
  const issuedBefore = Object.fromEntries(
    reconfiguring
      ? snapshot.certificates
          .filter((entry) => entry.certificate)
          .map((entry) => [entry.name, entry.certificate?.status?.revision ?? 0])
      : [],
  );
  const prefix = reconfiguring ? `reconfiguring TLS:\n${tlsDiff(db.spec?.tls, desired)}\n` : '';
  const audit: Action = {
    kind: 'event',
    reason: 'TLSEnabled',
    note: `TLS ${reconfiguring ? 'reconfigured' : 'enabled'} with ${issuerText(desired)}`,
  };
  if (method.use === 'ops-request') {
    const body = opsRequestBody(
      db,
      'enable-tls',
      { type: 'ReconfigureTLS', databaseRef: { name }, tls: desired, apply: 'IfReady' },
      { [specHashAnnotation]: hash },
    );
    return plan(snapshot, {
      operation: 'enable',
      method: 'ops-request',
      warnings,
      result: waiting ? 'enabled' : 'requested',
      actions: [
        {
          kind: 'create-ops-request',
          body,
          what: '(ReconfigureTLS)',
          purpose: ` to enable TLS with ${issuerText(desired)}: ${method.why}`,
          prefix,
        },
        audit,
        ...(waiting
          ? enabledWaits(snapshot, options.expected, { opsRequest: true, after: issuedBefore })
          : []),
      ],
    });
  }
  return plan(snapshot, {
    operation: 'enable',
    method: 'patch',
    warnings,
    result: waiting ? 'enabled' : 'requested',
    actions: [
      {
        kind: 'patch-tls',
        tls: desired,
        overwrite: options.overwrite,
        purpose: ` to enable TLS with ${issuerText(desired)}: ${method.why}`,
        prefix,
        ...(reconfiguring ? { annotations: { [reconfiguredAnnotation]: now.toISOString() } } : {}),
      },
      audit,
      ...(waiting
        ? enabledWaits(snapshot, options.expected, { after: issuedBefore, restart: reconfiguring })
        : []),
    ],
  });
}

/**
 * Lints of the issuer's CA before anything is written: a CA that expires before the certificates
 * would, or within --warn-within, is a warning (cert-manager's CA issuer does not cap a certificate
 * at its CA's expiry, cert-manager#5864).
 */
function caLints(snapshot: ConvergeSnapshot, options: EnablePlanOptions): string[] {
  const ca = snapshot.issuer?.ca;
  if (!ca || !snapshot.issuer) return [];
  const notAfter = Date.parse(ca.notAfter);
  const now = snapshot.now.getTime();
  const at = new Date(notAfter).toISOString();
  const { what } = snapshot.issuer;
  if (notAfter - now < options.warnWithinMs)
    return [
      `WARNING: the CA of ${what} (Secret ${ca.secret}) expires at ${at}, within --warn-within: renew it first (README: Rotating the CA)`,
    ];
  if (notAfter < now + options.durationMs)
    return [
      `WARNING: the CA of ${what} (Secret ${ca.secret}) expires at ${at}, before certificates issued now for ${options.durationText} would: clients refuse them from then on unless the CA is renewed with the same key`,
    ];
  return [];
}

// ---------------------------------------------------------------------------------------------
// rotate

export interface RotatePlanOptions extends PlanOptionsBase {
  method: 'auto' | 'ops-request' | 'cert-manager';
  restartOnly: boolean;
  staleOnly: boolean;
  noRestart: boolean;
  restartWith: 'auto' | 'ops-request' | 'annotation';
}

/** Say why a renewal would do nothing, instead of waiting for the timeout. */
function explainSilence(snapshot: ConvergeSnapshot): void {
  checkIssuer(snapshot.issuer, { force: false, consequence: 'cert-manager cannot issue new certificates' });
  for (const { certificate } of snapshot.certificates) {
    if (!certificate) continue;
    const next = nextIssuanceAttempt(certificate, snapshot.now);
    if (next) {
      throw refuse(
        `cert-manager is backing off after a failed issuance of Certificate ${certificate.metadata.name} (last failure ${certificate.status?.lastFailureTime}): it will not issue again before ${next.toISOString()}; fix the cause, then retry after that time`,
      );
    }
  }
}

/** A rotation this tool finished within the window, by ops request or by renewal. */
export function finishedRotation(snapshot: ConvergeSnapshot): { at: string; by: string } | undefined {
  // The newest request that ended counts, and only if it succeeded: a later Failed one is not "done".
  const ended = ownRequests(snapshot.opsRequests, 'rotate-tls').find((request) => !inFlight(request));
  const done = ended && phaseOf(ended) === 'Successful' ? ended : undefined;
  const doneAt = done ? finishedAt(done) : undefined;
  if (done && doneAt && within(doneAt, snapshot.now))
    return { at: doneAt, by: `ops request ${done.metadata.name}` };
  const present = snapshot.certificates.filter((entry) => entry.certificate);
  const times = present.map((entry) => recentRotation(entry.certificate, snapshot.now));
  if (present.length && times.every(Boolean))
    return { at: times.sort().at(-1) as string, by: 'cert-manager renewal' };
  return undefined;
}

/** Where one Certificate's renewal starts: a live marker of an earlier run, or its state now. */
export function renewalFor(entry: CertificateState, now: Date): Renewal | undefined {
  const { certificate } = entry;
  if (!certificate) return undefined;
  const revision = certificate.status?.revision ?? 0;
  const marked = liveRenewalMarker(certificate.metadata.annotations?.[rotateFromAnnotation], now);
  const issuing = findCondition(certificate.status?.conditions, 'Issuing')?.status === 'True';
  if (marked && (revision > marked.revision || issuing))
    return {
      name: entry.name,
      fromRevision: marked.revision,
      ...(marked.serial ? { fromSerial: marked.serial } : {}),
      resumed: true,
    };
  return {
    name: entry.name,
    ...(certificate.metadata.resourceVersion
      ? { resourceVersion: certificate.metadata.resourceVersion }
      : {}),
    fromRevision: revision,
    ...(entry.issued ? { fromSerial: entry.issued.serial } : {}),
    resumed: false,
  };
}

export function planRotate(snapshot: ConvergeSnapshot, options: RotatePlanOptions): Plan {
  const { db, opsManager } = snapshot;
  const { namespace, name, certificates, secrets, petSets } = names(snapshot);
  const waiting = options.wait && options.dryRun === 'none';
  if (!db.spec?.tls?.issuerRef)
    throw refuse(
      `TLS is not enabled on Singlestore ${namespace}/${name}: nothing to rotate (see tls enable)`,
    );
  const restartVia = (): 'ops-request' | 'annotation' => {
    if (options.restartWith === 'ops-request' && !opsManager)
      throw opsManagerMissing('--restart-with ops-request');
    return options.restartWith === 'ops-request' || (options.restartWith === 'auto' && opsManager)
      ? 'ops-request'
      : 'annotation';
  };
  const verifyAndFinish = (finish: Action[]): Action[] =>
    waiting ? [{ kind: 'verify', expect: options.noRestart ? 'no-restart' : 'rotated' }, ...finish] : [];

  if (options.restartOnly) {
    if (options.staleOnly)
      return plan(snapshot, {
        operation: 'rotate',
        method: 'restart-only',
        result: 'restarted',
        actions: [
          { kind: 'restart-stale-pods' },
          // Deleted pods too: their PetSet counts them ready only a moment after they are (kubectl
          // rollout status reads the same status), and the final check reads the PetSet.
          ...(waiting
            ? [
                {
                  kind: 'wait',
                  wait: { step: 'rollout', petSets, mounted: secrets, ifRestarted: true },
                } as Action,
              ]
            : []),
          ...verifyAndFinish([]),
        ],
      });
    return plan(snapshot, {
      operation: 'rotate',
      method: 'restart-only',
      result: 'restarted',
      actions: [
        { kind: 'restart', via: restartVia(), petSets, onlyOlderThanCertificates: true, wait: waiting },
        ...(waiting
          ? [{ kind: 'wait', wait: { step: 'rollout', petSets, mounted: secrets } } as Action]
          : []),
        ...verifyAndFinish([]),
      ],
    });
  }

  explainSilence(snapshot);
  if (options.method === 'ops-request' && !opsManager) throw opsManagerMissing('--method ops-request');
  const useOps =
    options.method === 'ops-request' || (options.method === 'auto' && opsManager && !options.noRestart);
  const rotateRequests = ownRequests(snapshot.opsRequests, 'rotate-tls');
  const running = rotateRequests.find(inFlight);
  const fresh = certificates.length
    ? snapshot.certificates.flatMap((entry) => {
        const renewal = renewalFor(entry, snapshot.now);
        return renewal ? [{ entry, renewal }] : [];
      })
    : [];
  const renewalUnderWay = fresh.some(({ renewal }) => renewal.resumed);
  // An earlier run stopped while it recorded its end leaves some Certificates marked "rotated" and
  // others still with their start marker: the recorded ones are done, never renewed a second time.
  const renewals = fresh.map(({ entry, renewal }) =>
    renewalUnderWay && !renewal.resumed && recentRotation(entry.certificate, snapshot.now)
      ? {
          name: renewal.name,
          fromRevision: Math.max(0, (entry.certificate?.status?.revision ?? 0) - 1),
          resumed: true,
        }
      : renewal,
  );
  const done = !running && !renewalUnderWay && !options.force ? finishedRotation(snapshot) : undefined;
  if (done) {
    return plan(snapshot, {
      operation: 'rotate',
      method: useOps ? 'ops-request' : 'cert-manager',
      upToDate: `That rotation finished at ${done.at} (${done.by}): nothing to do (--force rotates again)`,
      result: 'up-to-date',
      actions: [],
    });
  }
  const currentSerials = Object.fromEntries(
    snapshot.certificates.flatMap((entry) => (entry.issued ? [[entry.secret, entry.issued.serial]] : [])),
  );

  if (useOps && (running || !renewalUnderWay)) {
    const started: Action[] = running
      ? [
          {
            kind: 'say',
            text: `continuing with SinglestoreOpsRequest ${namespace}/${running.metadata.name} from an earlier run (${phaseOf(running)})`,
          },
        ]
      : [
          {
            kind: 'create-ops-request',
            body: opsRequestBody(
              db,
              'rotate-tls',
              { type: 'ReconfigureTLS', databaseRef: { name }, tls: { rotateCertificates: true } },
              { [rotateFromSerialsAnnotation]: JSON.stringify(currentSerials) },
            ),
            what: '(ReconfigureTLS, rotateCertificates)',
            showKind: true,
            purpose: ': KubeDB re-issues the certificates and restarts the pods',
          },
          {
            kind: 'event',
            reason: 'TLSRotationStarted',
            note: 'certificate rotation requested (ReconfigureTLS, rotateCertificates)',
          },
        ];
    const oldSerials = running ? rotateFromSerials(running) : currentSerials;
    return plan(snapshot, {
      operation: 'rotate',
      method: 'ops-request',
      result: waiting ? 'rotated' : 'requested',
      actions: [
        ...started,
        ...(waiting
          ? ([
              {
                kind: 'wait',
                wait: { step: 'ops-request', ...(running ? { name: running.metadata.name } : {}) },
              },
              { kind: 'wait', wait: { step: 'secrets', names: secrets, oldSerials } },
              { kind: 'restarted-by-ops', petSets },
            ] as Action[])
          : []),
        ...verifyAndFinish([
          {
            kind: 'event',
            reason: 'TLSRotated',
            note: 'certificates re-issued and loaded by every pod (ops request)',
          },
        ]),
      ],
    });
  }

  const oldSerials = Object.fromEntries(
    renewals.flatMap((renewal) => {
      const secret = snapshot.certificates.find((entry) => entry.name === renewal.name)?.secret;
      return secret && renewal.fromSerial ? [[secret, renewal.fromSerial]] : [];
    }),
  );
  const after = Object.fromEntries(renewals.map((renewal) => [renewal.name, renewal.fromRevision]));
  return plan(snapshot, {
    operation: 'rotate',
    method: 'cert-manager',
    result: waiting ? 'rotated' : 'requested',
    actions: [
      { kind: 'renew', renewals },
      ...(renewals.some((renewal) => !renewal.resumed)
        ? [
            {
              kind: 'event',
              reason: 'TLSRotationStarted',
              note: 'certificate renewal requested (cert-manager, Issuing=True)',
            } as Action,
          ]
        : []),
      ...(waiting
        ? ([
            { kind: 'wait', wait: { step: 'certificates', names: certificates, after } },
            { kind: 'wait', wait: { step: 'secrets', names: secrets, oldSerials } },
          ] as Action[])
        : []),
      ...(waiting && !options.noRestart
        ? ([
            { kind: 'restart', via: restartVia(), petSets, onlyOlderThanCertificates: true, wait: true },
            { kind: 'wait', wait: { step: 'rollout', petSets, mounted: secrets } },
          ] as Action[])
        : []),
      ...(options.noRestart
        ? [
            {
              kind: 'say',
              text: 'pods not restarted (--no-restart): they keep serving the old certificates until they restart',
            } as Action,
          ]
        : []),
      ...verifyAndFinish([
        { kind: 'finish-rotation', certificates },
        ...(options.noRestart
          ? []
          : [
              {
                kind: 'event',
                reason: 'TLSRotated',
                note: 'certificates re-issued (cert-manager) and loaded by every pod',
              } as Action,
            ]),
      ]),
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// disable

export interface DisablePlanOptions extends PlanOptionsBase {
  method: ChangeMethod;
}

/** What the user is told once TLS is off: what stopped, and who will notice. */
export function disabledWarning(namespace: string, name: string): string {
  return `TLS is turned off on Singlestore ${namespace}/${name}: its pods serve unencrypted connections only once restarted, and clients that require TLS (--ssl-mode=VERIFY_IDENTITY or REQUIRED, users created with REQUIRE SSL or REQUIRE X509) will now fail to connect`;
}

export function planDisable(snapshot: ConvergeSnapshot, options: DisablePlanOptions): Plan {
  const { db } = snapshot;
  const { namespace, name, secrets, petSets } = names(snapshot);
  const waiting = options.wait && options.dryRun === 'none';
  const waits = (opsRequest?: string | true): Action[] =>
    waiting
      ? [
          ...(opsRequest
            ? [
                {
                  kind: 'wait',
                  wait: { step: 'ops-request', ...(opsRequest === true ? {} : { name: opsRequest }) },
                } as Action,
              ]
            : []),
          { kind: 'wait', wait: { step: 'rollout', petSets, mounted: [], unmounted: secrets } },
          { kind: 'verify', expect: 'no-tls' },
        ]
      : [];
  const removals = ownRequests(snapshot.opsRequests, 'disable-tls');
  const running = removals.find(inFlight);
  if (running) {
    return plan(snapshot, {
      operation: 'disable',
      method: 'ops-request',
      result: waiting ? 'disabled' : 'requested',
      actions: [continuing(namespace, running), ...waits(running.metadata.name)],
    });
  }
  const other = snapshot.opsRequests.find(
    (request) => request.spec.type === 'ReconfigureTLS' && inFlight(request),
  );
  if (other) throw inFlightRefusal(other, name);
  if (!db.spec?.tls?.issuerRef) {
    const done = removals.find((request) => phaseOf(request) === 'Successful');
    const doneAt = done ? finishedAt(done) : undefined;
    return plan(snapshot, {
      operation: 'disable',
      method: 'none',
      upToDate:
        done && doneAt && within(doneAt, snapshot.now)
          ? `TLS was turned off on Singlestore ${namespace}/${name} at ${doneAt} (ops request ${done.metadata.name}): nothing to do`
          : `TLS is not enabled on Singlestore ${namespace}/${name}: nothing to do`,
      result: 'up-to-date',
      actions: waits(),
    });
  }
  const method = chooseMethod(options.method, snapshot, 'remove');
  const audit: Action = {
    kind: 'event',
    reason: 'TLSDisabled',
    note: `TLS turned off (was ${issuerText(db.spec.tls)})`,
  };
  const told: Action = { kind: 'say', text: disabledWarning(namespace, name), unlessDryRun: true };
  if (method.use === 'ops-request') {
    return plan(snapshot, {
      operation: 'disable',
      method: 'ops-request',
      result: waiting ? 'disabled' : 'requested',
      actions: [
        {
          kind: 'create-ops-request',
          body: opsRequestBody(db, 'disable-tls', {
            type: 'ReconfigureTLS',
            databaseRef: { name },
            tls: { remove: true },
            apply: 'IfReady',
          }),
          what: '(ReconfigureTLS, remove)',
          showKind: true,
          purpose: ` to turn TLS off: ${method.why}`,
        },
        audit,
        told,
        ...waits(true),
      ],
    });
  }
  return plan(snapshot, {
    operation: 'disable',
    method: 'patch',
    result: waiting ? 'disabled' : 'requested',
    actions: [
      { kind: 'patch-tls', tls: null, overwrite: true, purpose: ` to turn TLS off: ${method.why}` },
      audit,
      told,
      ...waits(),
    ],
  });
}
