/** `tls status`: gather -> diagnose -> render, and the exit code scripts rely on. */
import { ApiError, ExitCode } from '../../../errors.ts';
import type { KubeClient } from '../../../kube/client.ts';
import type { Writer } from '../../../kube/request-log.ts';
import { readCaFile } from '../../../tls/ca.ts';
import { diagnose } from '../../../tls/diagnose.ts';
import { gather } from '../../../tls/gather.ts';
import { defaultProbeConcurrency } from '../../../tls/probe.ts';
import { renderers, type StatusFormat } from '../../../tls/render.ts';
import type { StatusReport } from '../../../tls/report.ts';

export interface StatusOptions {
  name?: string;
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string;
  format: StatusFormat;
  warnWithinMs: number;
  requireTls: boolean;
  /** Probe the pods on the wire, each within this time; absent: no probe. */
  probe?: { timeoutMs: number };
  /** A PEM file with the CA to check against instead of the issuers' CA Secrets. */
  caFile?: string;
  /** cert-manager's --cluster-resource-namespace. */
  clusterResourceNamespace: string;
}

export interface StatusDeps {
  client: KubeClient;
  out: Writer;
  err: Writer;
  /** Ctrl-C: aborts the probe at once. */
  interrupt: AbortSignal;
  now: Date;
  commandName: string;
}

export async function runStatus(options: StatusOptions, deps: StatusDeps): Promise<number> {
  const report = await statusReport(options, deps);
  const namespace = options.allNamespaces ? undefined : options.namespace;
  const where = namespace ? `namespace "${namespace}"` : 'any namespace';
  if (report.databases.length === 0 && (options.format === 'table' || options.format === 'wide')) {
    deps.err(
      `No Singlestore databases found in ${where}${options.labelSelector ? ` matching ${options.labelSelector}` : ''}.\n`,
    );
  }
  deps.out(renderers[options.format](report));
  return report.summary.health === 'OK' ? ExitCode.ok : ExitCode.findings;
}

/** Why no status can be made when the Singlestores could not be listed (forbidden, CRD missing). */
export function unreadableSinglestores({ reason, message }: { reason: string; message: string }): ApiError {
  if (reason === 'not-served') {
    return new ApiError(
      "KubeDB's Singlestore CRD (singlestores.kubedb.com) is not installed in this cluster",
      404,
      reason,
    );
  }
  return new ApiError(message, reason === 'forbidden' ? 403 : 500, reason);
}

/** The one database named on the command line is not there. */
export function notFound(name: string, namespace: string | undefined): ApiError {
  const where = namespace ? `namespace "${namespace}"` : 'any namespace';
  return new ApiError(`singlestores.kubedb.com "${name}" not found in ${where}`, 404, 'NotFound');
}

/** Gather and diagnose: the report of one cluster, or the ApiError that made it impossible. */
export async function statusReport(
  options: StatusOptions,
  deps: Pick<StatusDeps, 'client' | 'interrupt' | 'now' | 'commandName'>,
): Promise<StatusReport> {
  const namespace = options.allNamespaces ? undefined : options.namespace;
  const caFile = options.caFile ? readCaFile(options.caFile) : undefined;
  const snapshot = await gather(
    deps.client,
    { namespace, name: options.name, labelSelector: options.labelSelector },
    {
      clusterResourceNamespace: options.clusterResourceNamespace,
      ...(caFile ? { caFile } : {}),
      ...(options.probe
        ? {
            probe: {
              ...options.probe,
              concurrency: defaultProbeConcurrency,
              signal: deps.interrupt,
              // One database gets every check; many get the served certificate only (README).
              checks: options.name ? 'full' : 'served',
            },
          }
        : {}),
    },
  );
  if (!snapshot.singlestores.ok) throw unreadableSinglestores(snapshot.singlestores);
  if (options.name && snapshot.singlestores.items.length === 0) throw notFound(options.name, namespace);
  return diagnose(snapshot, {
    now: deps.now,
    warnWithinMs: options.warnWithinMs,
    requireTls: options.requireTls,
    commandName: deps.commandName,
  });
}
