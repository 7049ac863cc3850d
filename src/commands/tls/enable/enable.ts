/**
 * `tls enable`: preflight (reads only), then one idempotent write the supported way (a
 * SinglestoreOpsRequest ReconfigureTLS, or a merge patch of spec.tls guarded by resourceVersion), then
 * optionally a watch-based wait through the whole TLS path and a final `tls status` check.
 * Re-running after Ctrl-C finds its own ops request or patch and continues.
 */
import { createHash } from 'node:crypto';
import { ApiError, CliError, ExitCode } from '../../../errors.ts';
import type { DryRun, KubeClient } from '../../../kube/client.ts';
import { findCondition } from '../../../kube/objects.ts';
import { Resources } from '../../../kube/resources.ts';
import { petSetNames, tlsCertificates } from '../../../kubedb/naming.ts';
import type { Certificate, Issuer, OpsRequest, Singlestore, TlsConfig } from '../../../kubedb/types.ts';
import { type DataFormat, renderData } from '../../../output/formats.ts';
import { createProgress, type ProgressMode } from '../../../output/progress.ts';
import { caLineage, caSecretOf, invalidIssuerRef } from '../../../tls/ca.ts';
import { readCaSecrets } from '../../../tls/gather.ts';
import { lookupIssuer } from '../../../tls/issuer.ts';
import { opsRequestBody, terminalPhases } from '../../../tls/ops-requests.ts';
import { newestIssue, restartPetSets } from '../../../tls/restart.ts';
import { desiredTls, sameTls, type TlsSettings, tlsDiff } from '../../../tls/spec.ts';
import { verifyDatabase } from '../../../tls/verify.ts';
import {
  certificatesStep,
  deadlineFrom,
  opsRequestStep,
  rolloutStep,
  secretsStep,
  type WaitContext,
  waitFor,
} from '../../../tls/wait.ts';
import { parseGoDuration } from '../../../util/duration.ts';
import type { ActionDeps } from '../action-deps.ts';
import { getDatabase } from '../database.ts';

export type EnableMethod = 'auto' | 'ops-request' | 'patch';

export interface EnableOptions {
  name: string;
  namespace: string;
  settings: TlsSettings;
  method: EnableMethod;
  dryRun: DryRun;
  output?: DataFormat;
  wait: boolean;
  timeoutMs: number;
  overwrite: boolean;
  force: boolean;
  /** Warn when the issuer's CA expires within this. */
  warnWithinMs: number;
  /** cert-manager's --cluster-resource-namespace, for a CA ClusterIssuer's Secret. */
  clusterResourceNamespace: string;
  progress: ProgressMode;
  /** The final check probes every pod within this time; absent: the objects only. */
  probe?: { timeoutMs: number };
}

export type EnableDeps = ActionDeps;

/** The spec.tls an ops request of ours asks for, so a re-run recognises it. */
export const specHashAnnotation = 'kubectl-singlestore.kubedb.com/spec-hash';
const maxConflictRetries = 5;

/** Refusals: the cluster is not in a state where the command may act; nothing was written. */
function refuse(message: string): CliError {
  return new CliError(message, ExitCode.runtime);
}

export async function runEnable(options: EnableOptions, deps: EnableDeps): Promise<number> {
  const { client } = deps;
  const { name, namespace } = options;
  const desired = desiredTls(options.settings);
  const hash = specHash(desired);
  const dryNote = options.dryRun === 'none' ? '' : ' (dry run)';

  // Preflight: reads only, in parallel where independent.
  const [certManagerServed, opsServed] = await Promise.all([
    client.serves(Resources.certificate),
    client.serves(Resources.opsRequest),
  ]);
  if (!certManagerServed) {
    throw refuse(
      'cert-manager is not installed (certificates.cert-manager.io is not served): install it first, https://cert-manager.io/docs/installation/',
    );
  }
  const db = await getDatabase(client, namespace, name);
  await preflightIssuer(client, { namespace, tls: desired, options, deps });
  const inFlight = opsServed ? await inFlightRequest(client, namespace, name) : undefined;

  if (inFlight) {
    const ours = inFlight.metadata.annotations?.[specHashAnnotation] === hash;
    if (!ours) {
      throw refuse(
        `SinglestoreOpsRequest ${inFlight.metadata.name} (ReconfigureTLS) for ${name} is ${inFlight.status?.phase ?? 'Pending'}: wait for it to finish, or delete it`,
      );
    }
    deps.out(
      `SinglestoreOpsRequest ${namespace}/${inFlight.metadata.name} from an earlier run is ${inFlight.status?.phase ?? 'Pending'}: continuing with it\n`,
    );
    return options.wait && options.dryRun === 'none'
      ? waitForTls(options, deps, db, desired, inFlight.metadata.name)
      : ExitCode.ok;
  }
  if (sameTls(db.spec?.tls, desired)) {
    deps.out(
      `TLS is already enabled on Singlestore ${namespace}/${name} with ${issuerText(desired)}: nothing to do\n`,
    );
    return options.wait && options.dryRun === 'none' ? waitForTls(options, deps, db, desired) : ExitCode.ok;
  }
  if (db.spec?.tls?.issuerRef && !options.overwrite) {
    throw refuse(
      `TLS is already enabled on Singlestore ${namespace}/${name} with other settings; pass --overwrite to reconfigure:\n${tlsDiff(db.spec.tls, desired)}`,
    );
  }
  const method = chooseMethod(options.method, opsServed, db);
  const issuedBefore = db.spec?.tls?.issuerRef
    ? await currentRevisions(client, db)
    : new Map<string, number>();
  const reconfigure = db.spec?.tls?.issuerRef ? `reconfiguring TLS:\n${tlsDiff(db.spec.tls, desired)}\n` : '';

  if (method.use === 'ops-request') {
    const request = opsRequestFor(db, desired, hash);
    if (options.dryRun === 'client')
      return printResult(
        deps,
        options,
        request,
        `${reconfigure}would create a SinglestoreOpsRequest (ReconfigureTLS) for ${namespace}/${name}${dryNote}: ${method.why}`,
      );
    const created = await client.create<OpsRequest>(Resources.opsRequest, namespace, request, options.dryRun);
    printResult(
      deps,
      options,
      created,
      `${reconfigure}created SinglestoreOpsRequest ${namespace}/${created.metadata.name ?? request.metadata.generateName}${dryNote} to enable TLS with ${issuerText(desired)}: ${method.why}`,
    );
    if (!options.wait || options.dryRun !== 'none') return ExitCode.ok;
    return waitForTls(options, deps, db, desired, created.metadata.name, issuedBefore);
  }

  const patched = await patchWithRetry(client, db, desired, options, deps);
  if (!patched) return ExitCode.ok;
  if (!options.wait || options.dryRun !== 'none') return ExitCode.ok;
  return waitForTls(options, deps, patched, desired, undefined, issuedBefore);

  function issuerText(tls: TlsConfig): string {
    return `${tls.issuerRef?.kind} "${tls.issuerRef?.name}"`;
  }

  /** Merge patch with the resourceVersion read: a concurrent change is a 409, retried on a fresh read. */
  async function patchWithRetry(
    client: KubeClient,
    first: Singlestore,
    tls: TlsConfig,
    opts: EnableOptions,
    io: EnableDeps,
  ): Promise<Singlestore | undefined> {
    let current = first;
    for (let attempt = 1; ; attempt++) {
      const patch = {
        metadata: { resourceVersion: current.metadata.resourceVersion },
        spec: {
          tls: {
            ...tls,
            certificates: tls.certificates ?? (current.spec?.tls?.certificates ? null : undefined),
          },
        },
      };
      if (opts.dryRun === 'client') {
        printResult(
          io,
          opts,
          patch as never,
          `${reconfigure}would patch spec.tls of Singlestore ${namespace}/${name}${dryNote}: ${method.why}`,
        );
        return undefined;
      }
      try {
        const result = await client.patch<Singlestore>(Resources.singlestore, namespace, name, patch, {
          dryRun: opts.dryRun,
        });
        printResult(
          io,
          opts,
          result,
          `${reconfigure}patched spec.tls of Singlestore ${namespace}/${name}${dryNote} to enable TLS with ${issuerText(tls)}: ${method.why}`,
        );
        return result;
      } catch (error) {
        if (!(error instanceof ApiError && error.isConflict) || attempt >= maxConflictRetries) throw error;
        io.err(
          `Singlestore ${namespace}/${name} changed while patching (conflict); retrying on a fresh read\n`,
        );
        current = await getDatabase(client, namespace, name);
        if (current.spec?.tls?.issuerRef && !sameTls(current.spec.tls, tls) && !opts.overwrite) {
          throw refuse(
            `TLS was enabled on Singlestore ${namespace}/${name} by someone else meanwhile, with other settings; pass --overwrite to reconfigure:\n${tlsDiff(current.spec.tls, tls)}`,
          );
        }
        if (sameTls(current.spec?.tls, tls)) {
          io.out(
            `TLS is already enabled on Singlestore ${namespace}/${name} with ${issuerText(tls)}: nothing to do\n`,
          );
          return current;
        }
      }
    }
  }
}

/** The revision of each Certificate the database has now, before a reconfiguration re-issues them. */
async function currentRevisions(client: KubeClient, db: Singlestore): Promise<Map<string, number>> {
  const names = new Set(
    tlsCertificates(db.metadata.name, db.spec?.tls?.certificates).map((entry) => entry.certificate),
  );
  const list = await client.list<Certificate>(Resources.certificate, { namespace: db.metadata.namespace });
  return new Map(
    list.items
      .filter((item) => names.has(item.metadata.name))
      .map((item) => [item.metadata.name, item.status?.revision ?? 0]),
  );
}

function printResult(deps: EnableDeps, options: EnableOptions, object: object, message: string): number {
  if (options.output) deps.out(renderData(object, options.output));
  else deps.out(`${message}\n`);
  return ExitCode.ok;
}

async function preflightIssuer(
  client: KubeClient,
  preflight: { namespace: string; tls: TlsConfig; options: EnableOptions; deps: EnableDeps },
): Promise<void> {
  const { namespace, tls, options } = preflight;
  const { force } = options;
  const err = preflight.deps.err;
  const ref = tls.issuerRef;
  if (!ref) return;
  const invalid = invalidIssuerRef(ref);
  if (invalid) throw refuse(invalid);
  const { cluster, issuer, ...readiness } = await lookupIssuer(client, namespace, ref);
  const what = cluster ? `ClusterIssuer "${ref.name}"` : `Issuer "${ref.name}" in namespace "${namespace}"`;
  if (!readiness.found) {
    throw refuse(
      `${what} does not exist: create it first${cluster ? '' : ' (or pass --cluster-issuer for a ClusterIssuer)'}`,
    );
  }
  if (!readiness.ready) {
    if (!force) throw refuse(`${what} is not Ready: ${readiness.message}; fix it first, or pass --force`);
    err(`WARNING: ${what} is not Ready (${readiness.message}); going on because of --force\n`);
  }
  if (issuer) await lintCa(client, { issuer, what, cluster, namespace, options, deps: preflight.deps });
}

/** cert-manager issues for 90 days unless told otherwise (Certificate spec.duration's default). */
const certManagerDefaultDurationMs = 2160 * 3_600_000;

/**
 * Lints of the issuer's CA before anything is written: a CA that expires before the certificates
 * would, or within --warn-within, is a warning (cert-manager's CA issuer does not cap a certificate
 * at its CA's expiry, cert-manager#5864). Reading the CA is opt-in by permission, as in tls status.
 */
async function lintCa(
  client: KubeClient,
  lint: {
    issuer: Issuer;
    what: string;
    cluster: boolean;
    namespace: string;
    options: EnableOptions;
    deps: EnableDeps;
  },
): Promise<void> {
  const { issuer, what, options, deps } = lint;
  const where = caSecretOf(
    issuer,
    { cluster: lint.cluster, namespace: lint.namespace },
    options.clusterResourceNamespace,
  );
  if (!where) return;
  const [read] = await readCaSecrets(client, [where]);
  // Not readable (the ca-check role is opt-in): tls status says so; enable goes on silently.
  if (!read?.ok) return;
  const lineage = caLineage(read.pems);
  if (typeof lineage === 'string') return;
  const caNotAfter = Math.min(Date.parse(lineage.signer.validTo), Date.parse(lineage.root.validTo));
  const now = deps.now().getTime();
  const duration = options.settings.duration
    ? parseGoDuration(options.settings.duration)
    : certManagerDefaultDurationMs;
  const at = new Date(caNotAfter).toISOString();
  if (caNotAfter - now < options.warnWithinMs) {
    deps.err(
      `WARNING: the CA of ${what} (Secret ${where.namespace}/${where.name}) expires at ${at}, within --warn-within: renew it first (README: Rotating the CA)\n`,
    );
  } else if (caNotAfter < now + duration) {
    deps.err(
      `WARNING: the CA of ${what} (Secret ${where.namespace}/${where.name}) expires at ${at}, before certificates issued now for ${options.settings.duration ?? "2160h (cert-manager's default)"} would: clients refuse them from then on unless the CA is renewed with the same key\n`,
    );
  }
}

async function inFlightRequest(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<OpsRequest | undefined> {
  const list = await client.list<OpsRequest>(Resources.opsRequest, { namespace });
  return list.items.find(
    (request) =>
      request.spec.databaseRef?.name === name &&
      request.spec.type === 'ReconfigureTLS' &&
      !terminalPhases.has(request.status?.phase ?? 'Pending'),
  );
}

function chooseMethod(
  method: EnableMethod,
  opsServed: boolean,
  db: Singlestore,
): { use: 'ops-request' | 'patch'; why: string } {
  const provisioned =
    db.status?.phase === 'Ready' || findCondition(db.status?.conditions, 'Provisioned')?.status === 'True';
  if (method === 'patch') return { use: 'patch', why: 'as asked (--method patch)' };
  if (method === 'ops-request') {
    if (!opsServed)
      throw refuse(
        "--method ops-request: KubeDB's ops manager is not installed (singlestoreopsrequests.ops.kubedb.com is not served)",
      );
    return { use: 'ops-request', why: 'as asked (--method ops-request)' };
  }
  if (!opsServed)
    return { use: 'patch', why: "KubeDB's ops manager is not installed, so spec.tls is patched directly" };
  if (!provisioned) {
    return {
      use: 'patch',
      why: `the database is not provisioned yet (phase ${db.status?.phase ?? 'unknown'}), so KubeDB applies spec.tls as it provisions`,
    };
  }
  return {
    use: 'ops-request',
    why: 'the database is running, and an ops request is how KubeDB adds TLS to a running database',
  };
}

function opsRequestFor(db: Singlestore, tls: TlsConfig, hash: string): OpsRequest {
  const spec = {
    type: 'ReconfigureTLS',
    databaseRef: { name: db.metadata.name },
    tls,
    apply: 'IfReady' as const,
  };
  return opsRequestBody(db, 'enable-tls', spec, { [specHashAnnotation]: hash });
}

function specHash(tls: TlsConfig): string {
  return createHash('sha256').update(JSON.stringify(tls)).digest('hex').slice(0, 16);
}

async function waitForTls(
  options: EnableOptions,
  deps: EnableDeps,
  db: Singlestore,
  tls: TlsConfig,
  requestName?: string,
  /** On a reconfiguration, the revisions before it: the wait is for certificates issued after. */
  issuedBefore: Map<string, number> = new Map(),
): Promise<number> {
  const { namespace, name } = options;
  const context: WaitContext = {
    client: deps.client,
    progress: createProgress(options.progress, deps.err),
    interrupt: deps.interrupt,
    ...deadlineFrom(options.timeoutMs),
  };
  const expected = tlsCertificates(name, tls.certificates);
  const certificates = expected.map((entry) => entry.certificate);
  const secrets = expected.map((entry) => entry.secret);
  if (requestName) await waitFor(context, opsRequestStep(namespace, requestName));
  await waitFor(context, certificatesStep(namespace, certificates, issuedBefore));
  await waitFor(context, secretsStep(namespace, secrets));
  if (!requestName && issuedBefore.size > 0) {
    // A patch re-issued the certificates of running pods; nothing else restarts them (an ops request would).
    const log = (line: string) => deps.out(`${line}\n`);
    const newest = await newestIssue(deps.client, namespace, secrets);
    await restartPetSets(
      deps.client,
      db,
      petSetNames(name, Boolean(db.spec?.topology)),
      newest,
      false,
      'none',
      log,
      context,
      true,
    );
  }
  await waitFor(context, rolloutStep(namespace, petSetNames(name, Boolean(db.spec?.topology)), secrets));
  const verified = await verifyDatabase(
    deps.client,
    { namespace, name },
    {
      now: deps.now(),
      commandName: deps.commandName,
      interrupt: deps.interrupt,
      ...(options.probe ? { probe: options.probe } : {}),
    },
    deps.out,
  );
  return verified.code;
}
