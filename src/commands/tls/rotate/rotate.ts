/**
 * `tls rotate`: new certificates, loaded by every pod, verified. Per database:
 *   explain silence up front (issuer not Ready, cert-manager backing off after a failure),
 *   re-issue (a ReconfigureTLS ops request with rotateCertificates, or cert-manager's Issuing
 *   condition as `cmctl renew` sets it), wait for Secrets with new serials that chain to ca.crt,
 *   restart the PetSets (a Restart ops request, or the restartedAt annotation), wait for the rollout,
 *   and check with `tls status` that no pod predates the new certificates.
 * Every step first looks for what an earlier, interrupted run already did, so nothing is issued twice.
 */

import { ApiError, CliError, ExitCode, TimeoutError } from '../../../errors.ts';
import type { DryRun, KubeClient } from '../../../kube/client.ts';
import { findCondition } from '../../../kube/objects.ts';
import { Resources } from '../../../kube/resources.ts';
import { petSetNames, tlsCertificates } from '../../../kubedb/naming.ts';
import type { Certificate, OpsRequest, Secret, Singlestore } from '../../../kubedb/types.ts';
import { renderData } from '../../../output/formats.ts';
import { createProgress, type ProgressMode } from '../../../output/progress.ts';
import { formatTable } from '../../../output/table.ts';
import { nextIssuanceAttempt } from '../../../tls/diagnose.ts';
import { lookupIssuer } from '../../../tls/issuer.ts';
import { opsRequestBody, ownRequest } from '../../../tls/ops-requests.ts';
import { newestIssue, restartPetSets, restartStalePods } from '../../../tls/restart.ts';
import { podsOf, verifyDatabase } from '../../../tls/verify.ts';
import {
  certificatesStep,
  deadlineFrom,
  decodeTls,
  opsRequestStep,
  rolloutStep,
  secretsStep,
  type WaitContext,
  waitFor,
} from '../../../tls/wait.ts';
import { inspectTlsData } from '../../../tls/x509.ts';
import type { ActionDeps } from '../action-deps.ts';
import { type IssuerSelection, selectByIssuer } from './by-issuer.ts';

export type RotateMethod = 'auto' | 'ops-request' | 'cert-manager';

export interface RotateOptions {
  /** One database, or undefined with --all/--issuer/-A/-l. */
  name?: string;
  /** --issuer: the databases of this issuer whose certificates its current CA did not sign (or all of them). */
  issuer?: IssuerSelection;
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string;
  method: RotateMethod;
  restartOnly: boolean;
  /** With restartOnly: only the pods the probe sees serving an old certificate, one at a time. */
  staleOnly: boolean;
  noRestart: boolean;
  /** How pods are restarted: a Restart ops request where served, or the restartedAt annotation. */
  restartWith: 'auto' | 'ops-request' | 'annotation';
  wait: boolean;
  timeoutMs: number;
  dryRun: DryRun;
  output?: 'json';
  concurrency: number;
  progress: ProgressMode;
  /** The final check (and --stale-only) probes every pod within this time; absent: objects only. */
  probe?: { timeoutMs: number };
}

export type RotateDeps = ActionDeps;

export interface RotateResult {
  namespace: string;
  name: string;
  result: 'rotated' | 'restarted' | 'requested' | 'dry-run' | 'failed';
  method: string;
  certificates: {
    name: string;
    oldSerial?: string;
    newSerial?: string;
    oldNotAfter?: string;
    newNotAfter?: string;
  }[];
  restarted: string[];
  /** What each pod serves after the rotation (on the wire where the probe ran). */
  served?: { pod: string; served: string; serial?: string }[];
  elapsedSeconds: number;
  health?: string;
  error?: string;
  exitCode: number;
}

/** Marks a Certificate whose re-issue this tool asked for, with the revision it started from. */
export const rotateFromAnnotation = 'kubectl-singlestore.kubedb.com/rotate-from-revision';
/** How long a re-run may pick up an interrupted rotation. */
const markerLifetimeMs = 3_600_000;

export async function runRotate(options: RotateOptions, deps: RotateDeps): Promise<number> {
  const databases = await selectDatabases(options, deps);
  const bulk = options.name === undefined;
  if (databases.length === 0) {
    deps.err('No TLS-enabled Singlestore databases found.\n');
    return ExitCode.ok;
  }
  const [opsServed] = await Promise.all([deps.client.serves(Resources.opsRequest)]);
  const results: RotateResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < databases.length) {
      const db = databases[next++] as Singlestore;
      results.push(await rotateOne(db, options, deps, opsServed, bulk));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, databases.length) }, worker));
  results.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  if (options.output === 'json') {
    deps.out(
      renderData({ apiVersion: 'singlestore.tls.kubedb.com/v1', kind: 'TLSRotateResult', results }, 'json'),
    );
  } else if (bulk) {
    deps.out(summaryTable(results));
  } else {
    for (const result of results) deps.out(`${describeResult(result)}\n`);
  }
  if (deps.interrupt.aborted) return ExitCode.interrupted;
  const codes = results.map((result) => result.exitCode);
  if (codes.includes(ExitCode.runtime)) return ExitCode.runtime;
  if (codes.includes(ExitCode.timeout)) return ExitCode.timeout;
  return codes.includes(ExitCode.findings) ? ExitCode.findings : ExitCode.ok;
}

async function selectDatabases(options: RotateOptions, deps: RotateDeps): Promise<Singlestore[]> {
  const { client } = deps;
  if (options.name) {
    const db = await client.find<Singlestore>(Resources.singlestore, options.namespace, options.name);
    if (!db)
      throw new CliError(
        `singlestores.kubedb.com "${options.name}" not found in namespace "${options.namespace}"`,
        ExitCode.runtime,
      );
    if (!db.spec?.tls?.issuerRef) {
      throw new CliError(
        `TLS is not enabled on Singlestore ${options.namespace}/${options.name}: nothing to rotate (see tls enable)`,
        ExitCode.runtime,
      );
    }
    return [db];
  }
  const list = await client.list<Singlestore>(Resources.singlestore, {
    namespace: options.allNamespaces ? undefined : options.namespace,
    labelSelector: options.labelSelector,
  });
  const enabled = list.items.filter((db) => db.spec?.tls?.issuerRef);
  return options.issuer
    ? selectByIssuer(client, { databases: enabled, issuer: options.issuer, err: deps.err })
    : enabled;
}

function describeResult(result: RotateResult): string {
  const serials = result.certificates
    .filter((c) => c.newSerial)
    .map((c) => `${c.name} ${c.oldSerial?.slice(0, 12) ?? '-'}.. -> ${c.newSerial?.slice(0, 12)}..`)
    .join(', ');
  const parts = [
    `Singlestore ${result.namespace}/${result.name}: ${result.result} (${result.method})`,
    serials ? `new certificates: ${serials}` : '',
    result.restarted.length ? `restarted: ${result.restarted.join(', ')}` : '',
    `in ${result.elapsedSeconds}s`,
  ];
  return parts.filter(Boolean).join('; ');
}

function summaryTable(results: RotateResult[]): string {
  const rows = results.map((result) => [
    result.namespace,
    result.name,
    result.result,
    result.method,
    result.certificates
      .map((c) => `${c.newSerial && c.newSerial !== c.oldSerial ? c.newSerial.slice(0, 8) : '-'}`)
      .join(','),
    result.restarted.join(',') || '-',
    `${result.elapsedSeconds}s`,
    result.error ?? result.health ?? '-',
  ]);
  return formatTable(
    ['NAMESPACE', 'NAME', 'RESULT', 'METHOD', 'NEW-SERIALS', 'RESTARTED', 'ELAPSED', 'DETAIL'],
    rows,
  );
}

async function rotateOne(
  db: Singlestore,
  options: RotateOptions,
  deps: RotateDeps,
  opsServed: boolean,
  bulk: boolean,
): Promise<RotateResult> {
  const started = performance.now();
  const namespace = db.metadata.namespace as string;
  const name = db.metadata.name;
  const result: RotateResult = {
    namespace,
    name,
    result: 'failed',
    method: '',
    certificates: [],
    restarted: [],
    elapsedSeconds: 0,
    exitCode: ExitCode.ok,
  };
  const log = (line: string) =>
    options.output
      ? deps.err(`${bulk ? `${namespace}/${name}: ` : ''}${line}\n`)
      : deps.out(`${bulk ? `${namespace}/${name}: ` : ''}${line}\n`);
  try {
    await rotateSteps(db, options, deps, opsServed, bulk, result, log);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    result.result = 'failed';
    result.error = error.message;
    result.exitCode = error instanceof TimeoutError ? ExitCode.timeout : error.exitCode;
    if (!bulk) throw error;
    deps.err(`${namespace}/${name}: error: ${error.message}\n`);
  } finally {
    result.elapsedSeconds = Math.round((performance.now() - started) / 100) / 10;
  }
  return result;
}

async function rotateSteps(
  db: Singlestore,
  options: RotateOptions,
  deps: RotateDeps,
  opsServed: boolean,
  bulk: boolean,
  result: RotateResult,
  log: (line: string) => void,
): Promise<void> {
  const { client } = deps;
  const namespace = db.metadata.namespace as string;
  const name = db.metadata.name;
  const dry = options.dryRun === 'none' ? '' : ' (dry run)';
  const expected = tlsCertificates(name, db.spec?.tls?.certificates);
  const certificateNames = expected.map((entry) => entry.certificate);
  const secretNames = expected.map((entry) => entry.secret);
  const petSets = petSetNames(name, Boolean(db.spec?.topology));
  const [certificates, secrets] = await Promise.all([
    Promise.all(
      certificateNames.map((certificate) =>
        client.find<Certificate>(Resources.certificate, namespace, certificate),
      ),
    ),
    Promise.all(secretNames.map((secret) => client.find<Secret>(Resources.secret, namespace, secret))),
  ]);
  const before = secrets.map((secret) =>
    secret ? inspectTlsData(decodeTls(secret)).certificate : undefined,
  );
  result.certificates = certificateNames.map((certificate, index) => ({
    name: certificate,
    ...(before[index]
      ? { oldSerial: before[index]?.serialNumber, oldNotAfter: before[index]?.notAfter }
      : {}),
  }));
  const wait = options.wait && options.dryRun === 'none';
  const context: WaitContext = {
    client,
    progress: createProgress(
      bulk ? 'plain' : options.progress,
      deps.err,
      undefined,
      bulk ? `${namespace}/${name}` : '',
    ),
    interrupt: deps.interrupt,
    ...deadlineFrom(options.timeoutMs),
  };

  // The serial each Certificate is rotated away from: read now, or kept in the marker of an interrupted run.
  let rotatedFrom = new Map(
    certificateNames.map((certificate, index) => [certificate, before[index]?.serialNumber]),
  );
  if (!options.restartOnly) {
    await explainSilence(client, db, certificates, deps.now());
    const useOps =
      options.method === 'ops-request' || (options.method === 'auto' && opsServed && !options.noRestart);
    if (useOps) {
      if (!opsServed)
        throw new CliError("--method ops-request: KubeDB's ops manager is not installed", ExitCode.runtime);
      result.method = 'ops-request';
      const request = await ownRequest(
        client,
        namespace,
        name,
        'rotate-tls',
        (r) => r.spec.tls?.rotateCertificates === true,
      );
      let requestName = request?.metadata.name;
      if (request) {
        log(
          `continuing with SinglestoreOpsRequest ${namespace}/${requestName} from an earlier run (${request.status?.phase ?? 'Pending'})`,
        );
      } else {
        const body = opsRequestBody(db, 'rotate-tls', {
          type: 'ReconfigureTLS',
          databaseRef: { name },
          tls: { rotateCertificates: true },
        });
        if (options.dryRun === 'client') {
          log(`would create a SinglestoreOpsRequest (ReconfigureTLS, rotateCertificates)${dry}`);
          if (!bulk && !options.output) deps.out(renderData(body, 'yaml'));
          result.result = 'dry-run';
          return;
        }
        const created = await client.create<OpsRequest>(
          Resources.opsRequest,
          namespace,
          body,
          options.dryRun,
        );
        requestName = created.metadata.name;
        log(
          `created SinglestoreOpsRequest ${namespace}/${requestName} (ReconfigureTLS, rotateCertificates)${dry}: KubeDB re-issues the certificates and restarts the pods`,
        );
      }
      if (options.dryRun !== 'none') {
        result.result = 'dry-run';
        return;
      }
      result.result = 'requested';
      if (!wait) return;
      await waitFor(context, opsRequestStep(namespace, requestName as string));
      result.restarted = petSets;
    } else {
      result.method = 'cert-manager';
      const renewal = await triggerRenewals(client, certificates, rotatedFrom, {
        dryRun: options.dryRun,
        log,
        now: deps.now,
      });
      rotatedFrom = renewal.oldSerials;
      const startRevisions = renewal.startRevisions;
      if (options.dryRun !== 'none') {
        result.result = 'dry-run';
        return;
      }
      result.result = 'requested';
      if (!wait) return;
      await waitFor(context, certificatesStep(namespace, certificateNames, startRevisions));
    }
    const oldSerials = new Map(
      secretNames.flatMap((secret, index) => {
        const serial = rotatedFrom.get(certificateNames[index] as string);
        return serial ? [[secret, serial] as [string, string]] : [];
      }),
    );
    const populated = await waitFor(context, secretsStep(namespace, secretNames, oldSerials));
    result.certificates = result.certificates.map((entry, index) => {
      const secret = populated.find((item) => item.metadata.name === secretNames[index]);
      const facts = secret ? inspectTlsData(decodeTls(secret)).certificate : undefined;
      const oldSerial = rotatedFrom.get(entry.name);
      const { oldSerial: _read, oldNotAfter, ...rest } = entry;
      return {
        ...rest,
        ...(oldSerial ? { oldSerial } : {}),
        ...(oldSerial && oldSerial === _read ? { oldNotAfter } : {}),
        ...(facts ? { newSerial: facts.serialNumber, newNotAfter: facts.notAfter } : {}),
      };
    });
    result.result = 'rotated';
  } else {
    result.method = 'restart-only';
  }

  const restartedByOps = result.method === 'ops-request';
  if (options.staleOnly && options.probe) {
    result.restarted = await restartStalePods(
      { namespace, name },
      {
        client,
        probe: options.probe,
        dryRun: options.dryRun,
        log,
        context,
        now: deps.now,
        commandName: deps.commandName,
      },
    );
    if (options.dryRun !== 'none') {
      result.result = 'dry-run';
      return;
    }
    result.result = 'restarted';
  } else if (!restartedByOps && !options.noRestart) {
    const newest = await newestIssue(client, namespace, secretNames);
    const useOps = options.restartWith === 'ops-request' || (options.restartWith === 'auto' && opsServed);
    if (useOps && !opsServed)
      throw new CliError(
        "--restart-with ops-request: KubeDB's ops manager is not installed",
        ExitCode.runtime,
      );
    result.restarted = await restartPetSets(
      client,
      db,
      petSets,
      newest,
      useOps,
      options.dryRun,
      log,
      context,
      wait,
    );
    if (options.dryRun !== 'none') {
      result.result = 'dry-run';
      return;
    }
    if (options.restartOnly) result.result = 'restarted';
    if (!wait) return;
  }
  if (options.noRestart)
    log('pods not restarted (--no-restart): they keep serving the old certificates until they restart');
  if (!wait) return;
  // Deleted pods too: their PetSet counts them ready only a moment after they are (kubectl rollout status
  // reads the same status), and the final check reads the PetSet.
  if (!options.noRestart && (!options.staleOnly || result.restarted.length))
    await waitFor(context, rolloutStep(namespace, petSets, secretNames));
  const verified = await verifyDatabase(
    client,
    { namespace, name },
    {
      now: deps.now(),
      commandName: deps.commandName,
      interrupt: deps.interrupt,
      ...(options.probe ? { probe: options.probe } : {}),
    },
    // Many databases: each verdict and its findings on lines of their own, named like the progress.
    options.output ? () => {} : bulk ? (text) => log(text.replace(/\n$/, '')) : deps.out,
  );
  result.health = verified.report?.health;
  result.served = podsOf(verified.report).map((pod) => ({
    pod: pod.name,
    served: pod.served,
    ...(pod.probe?.served ? { serial: pod.probe.served.serialNumber } : {}),
  }));
  // Only now is the rotation through: an interrupted run leaves the markers for its re-run.
  if (result.method === 'cert-manager') await clearMarkers(client, namespace, certificateNames);
  const oldOnWire = podsOf(verified.report).filter((pod) => pod.served === 'stale');
  if (options.noRestart) {
    if (oldOnWire.length)
      log(
        `as expected with --no-restart, ${oldOnWire.map((pod) => pod.name).join(', ')} still serve${oldOnWire.length === 1 ? 's' : ''} the old certificate (seen on the wire); to load the new one: ${deps.commandName} tls rotate ${name} -n ${namespace} --restart-only --stale-only`,
      );
  } else {
    const podProblems = (verified.report?.findings ?? []).filter(
      (finding) => finding.step === 'pods' && finding.severity !== 'info',
    );
    const first = podProblems[0];
    if (first)
      throw new CliError(
        `after the restart, ${podProblems.map((finding) => finding.message).join('; ')}${first.hint ? `; next: ${first.hint}` : ''}`,
        ExitCode.runtime,
      );
  }
  result.exitCode = verified.code === 0 || options.noRestart ? ExitCode.ok : ExitCode.findings;
}

/** Say why a renewal would do nothing, instead of waiting for the timeout. */
async function explainSilence(
  client: KubeClient,
  db: Singlestore,
  certificates: (Certificate | undefined)[],
  now: Date,
): Promise<void> {
  const ref = db.spec?.tls?.issuerRef;
  if (ref) {
    const { cluster, ...readiness } = await lookupIssuer(client, db.metadata.namespace, ref);
    const what = `${cluster ? 'ClusterIssuer' : 'Issuer'} "${ref.name}"`;
    if (!readiness.found)
      throw new CliError(
        `${what} does not exist: cert-manager cannot issue new certificates`,
        ExitCode.runtime,
      );
    if (!readiness.ready)
      throw new CliError(
        `${what} is not Ready (${readiness.message}): cert-manager cannot issue new certificates`,
        ExitCode.runtime,
      );
  }
  for (const certificate of certificates) {
    if (!certificate) continue;
    const next = nextIssuanceAttempt(certificate, now);
    if (next) {
      throw new CliError(
        `cert-manager is backing off after a failed issuance of Certificate ${certificate.metadata.name} (last failure ${certificate.status?.lastFailureTime}): it will not issue again before ${next.toISOString()}; fix the cause, then retry after that time`,
        ExitCode.runtime,
      );
    }
  }
}

/**
 * Mark each Certificate with the revision it is rotated from, then set Issuing=True (reason
 * ManuallyTriggered) through the status subresource, as `cmctl renew` does. A Certificate already
 * marked by an interrupted run is not triggered again once it has moved past that revision.
 */
/** How a renewal is made: dry run or not, where progress goes, and the injected clock. */
interface RenewalSettings {
  dryRun: DryRun;
  log: (line: string) => void;
  now: () => Date;
}

async function triggerRenewals(
  client: KubeClient,
  certificates: (Certificate | undefined)[],
  currentSerials: Map<string, string | undefined>,
  settings: RenewalSettings,
): Promise<{ startRevisions: Map<string, number>; oldSerials: Map<string, string | undefined> }> {
  const startRevisions = new Map<string, number>();
  const oldSerials = new Map<string, string | undefined>();
  for (const first of certificates) {
    if (!first) continue;
    let certificate = first;
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await renewOne(
          client,
          certificate,
          currentSerials.get(certificate.metadata.name),
          settings,
        );
        startRevisions.set(certificate.metadata.name, outcome.fromRevision);
        oldSerials.set(certificate.metadata.name, outcome.fromSerial);
        break;
      } catch (error) {
        // Someone changed the Certificate between our read and the marker patch: read again, decide again.
        if (!(error instanceof ApiError && error.isConflict) || attempt >= 5) throw error;
        settings.log(
          `Certificate ${certificate.metadata.name} changed while marking it (conflict); retrying on a fresh read`,
        );
        certificate = await client.get<Certificate>(
          Resources.certificate,
          certificate.metadata.namespace,
          certificate.metadata.name,
        );
      }
    }
  }
  return { startRevisions, oldSerials };
}

/** Where one Certificate's rotation starts from: its revision and serial before the renewal. */
interface RenewalStart {
  fromRevision: number;
  fromSerial: string | undefined;
}

async function renewOne(
  client: KubeClient,
  certificate: Certificate,
  serial: string | undefined,
  settings: RenewalSettings,
): Promise<RenewalStart> {
  const { dryRun, log } = settings;
  const now = settings.now();
  const { name, namespace } = certificate.metadata;
  const revision = certificate.status?.revision ?? 0;
  const marked = liveMarker(certificate.metadata.annotations?.[rotateFromAnnotation], now);
  const issuing = findCondition(certificate.status?.conditions, 'Issuing')?.status === 'True';
  if (marked && (revision > marked.revision || issuing)) {
    log(
      `Certificate ${name}: re-issue already requested by an earlier run (from revision ${marked.revision})`,
    );
    return { fromRevision: marked.revision, fromSerial: marked.serial };
  }
  const dry = dryRun === 'none' ? '' : ' (dry run)';
  if (dryRun === 'client') {
    log(`would renew Certificate ${namespace}/${name} (Issuing=True, ManuallyTriggered)${dry}`);
    return { fromRevision: revision, fromSerial: serial };
  }
  // The serial goes in the marker too: a re-run cannot tell it from the Secret, which may already be new.
  const marker = `${revision}@${now.toISOString()}@${serial ?? ''}`;
  const withMarker = await client.patch<Certificate>(
    Resources.certificate,
    namespace,
    name,
    {
      metadata: {
        resourceVersion: certificate.metadata.resourceVersion,
        annotations: { [rotateFromAnnotation]: marker },
      },
    },
    { dryRun },
  );
  const conditions = [
    ...(withMarker.status?.conditions ?? []).filter((condition) => condition.type !== 'Issuing'),
    {
      type: 'Issuing',
      status: 'True',
      reason: 'ManuallyTriggered',
      message: 'Certificate re-issuance manually triggered',
      lastTransitionTime: now.toISOString(),
    },
  ];
  await client.patch(
    Resources.certificate,
    namespace,
    name,
    // Guarded by the resourceVersion just written: a concurrent status change is a conflict, not a loss.
    { metadata: { resourceVersion: withMarker.metadata.resourceVersion }, status: { conditions } },
    { subresource: 'status', dryRun },
  );
  log(`renewal of Certificate ${namespace}/${name} requested (Issuing=True, ManuallyTriggered)${dry}`);
  return { fromRevision: revision, fromSerial: serial };
}

/**
 * The revision an earlier run started from, if that run was recent enough to be the one being
 * re-run; a marker left by a run abandoned long ago does not stop a new rotation.
 */
function liveMarker(value: string | undefined, now: Date): { revision: number; serial?: string } | undefined {
  const match = /^(\d+)@([^@]+)@([0-9a-f]*)$/.exec(value ?? '');
  if (!match || now.getTime() - Date.parse(match[2] as string) >= markerLifetimeMs) return undefined;
  return { revision: Number(match[1]), ...(match[3] ? { serial: match[3] } : {}) };
}

/** The rotation is through: the markers go, so the next rotation starts afresh. */
async function clearMarkers(client: KubeClient, namespace: string, names: string[]): Promise<void> {
  for (const name of names) {
    await client.patch(Resources.certificate, namespace, name, {
      metadata: { annotations: { [rotateFromAnnotation]: null } },
    });
  }
}
