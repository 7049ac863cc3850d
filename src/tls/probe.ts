/**
 * The wire probe: what each database pod really serves on its MySQL port, reached through the API
 * server's pods/portforward (as `kubectl port-forward` does), never by guessing from start times.
 * Per pod, three handshakes run side by side, each on a forward of its own:
 *   - the one a current client makes (presenting the database's client certificate when we have it):
 *     the served chain, TLS version and cipher;
 *   - TLS 1.2 at most, where the server's CertificateRequest is still visible on the wire;
 *   - TLS 1.0/1.1 only, to find servers that still accept them.
 * No login is attempted: the connection ends after the handshake (the server counts it as an
 * aborted connection). One time limit covers everything done for a pod.
 */
import type { X509Certificate } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ApiError, InterruptedError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { openPortForward, PortForwardError } from '../kube/portforward.ts';
import { type HandshakeOutcome, mysqlTlsHandshake, TlsContexts } from './mysql-wire.ts';
import { type CaCheck, type CertificateFacts, certificateFacts, checkCa } from './x509.ts';

/** KubeDB's SingleStore pods serve MySQL clients here. */
export const databasePort = 3306;

export type ProbeResult =
  /** A TLS handshake completed: `served` says with what. */
  | 'tls'
  /** The greeting did not offer TLS (CLIENT_SSL). */
  | 'no-tls'
  /** Nothing accepted the connection on the port inside the pod. */
  | 'refused'
  | 'handshake-failed'
  /** The server sent an error packet instead of a greeting (too many connections, host blocked). */
  | 'server-error'
  /** No answer within the time limit. */
  | 'timeout'
  /** The user may not port-forward to the pod. */
  | 'forbidden'
  /** The pod is not running, so there is nothing to ask. */
  | 'not-running'
  | 'error';

export interface ServedCertificate extends CertificateFacts {
  /** Whether the served chain leads to the ca.crt of the database's server Secret. */
  signedBySecretCa: CaCheck;
}

export interface PodProbe {
  namespace: string;
  pod: string;
  result: ProbeResult;
  /** Why, for every result but `tls`. */
  message?: string;
  serverVersion?: string;
  served?: ServedCertificate;
  protocol?: string;
  cipher?: string;
  /** Whether the server still completes a TLS 1.0 or 1.1 handshake. */
  legacyTls?: 'accepted' | 'refused' | 'unknown';
  clientCertificate?: {
    /** null: not visible (the server speaks only TLS 1.3, where the request is encrypted). */
    requested: boolean | null;
    /** We presented the database's client certificate and the handshake completed with it. */
    presented: boolean;
  };
  elapsedMs: number;
}

export interface ProbeTarget {
  namespace: string;
  pod: string;
  /** Pod phase from the API: only Running pods are probed. */
  phase: string | undefined;
  /** The name a client would dial (SNI). */
  servername: string;
  /** ca.crt of the database's server Secret, to check the served chain against. */
  caPem?: string;
  /** The database's client certificate, presented when the server asks. */
  clientCertificate?: { cert: string; key: string };
}

export interface ProbeOptions {
  timeoutMs: number;
  /** What the pods of one run share (probePods makes it when absent). */
  shared?: ProbeShared;
  /** Pods probed at once. */
  concurrency: number;
  signal: AbortSignal;
  /**
   * `full`: the three handshakes; `served`: only the one that reads the served certificate (many
   * databases at once, where a third of the connections is what keeps the cost near a plain status).
   */
  checks?: 'full' | 'served';
}

/** Built once per run: TLS contexts by settings, and the facts of each served chain by its CA. */
export interface ProbeShared {
  contexts: TlsContexts;
  served: ServedCache;
}

type ServedCache = Map<string, ServedCertificate>;

export const defaultProbeConcurrency = 16;

/** Probes every target, `concurrency` pods at a time; one stuck pod costs at most its time limit. */
export async function probePods(
  client: KubeClient,
  targets: ProbeTarget[],
  options: ProbeOptions,
): Promise<PodProbe[]> {
  const results: PodProbe[] = new Array(targets.length);
  const shared = { ...options, shared: options.shared ?? { contexts: new TlsContexts(), served: new Map() } };
  let next = 0;
  const worker = async () => {
    while (next < targets.length && !options.signal.aborted) {
      const index = next++;
      results[index] = await probePod(client, targets[index] as ProbeTarget, shared);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, targets.length) }, worker));
  if (options.signal.aborted) throw new InterruptedError();
  return results;
}

export async function probePod(
  client: KubeClient,
  target: ProbeTarget,
  options: ProbeOptions,
): Promise<PodProbe> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (target.phase !== 'Running') {
    return {
      namespace: target.namespace,
      pod: target.pod,
      result: 'not-running',
      message: `the pod is ${target.phase ?? 'in an unknown phase'}, not Running`,
      elapsedMs: 0,
    };
  }
  const limit = new TimeLimit(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, limit.signal]);
  const where = { namespace: target.namespace, pod: target.pod };
  let streams: Duplex[] = [];
  try {
    // One WebSocket, three connections to the port inside the pod: the handshakes run side by side.
    const full = options.checks !== 'served';
    streams = await openPortForward(client, {
      namespace: target.namespace,
      pod: target.pod,
      ports: full ? [databasePort, databasePort, databasePort] : [databasePort],
      signal,
    });
    limit.step = 'waiting for the MySQL greeting';
    const [forCurrent, forTls12, forLegacy] = streams as [Duplex, Duplex?, Duplex?];
    const contexts = options.shared?.contexts;
    const [main, upToTls12, legacy] = await Promise.allSettled([
      mysqlTlsHandshake(forCurrent, {
        signal,
        ...(contexts ? { contexts } : {}),
        servername: target.servername,
        ...(full && target.clientCertificate ? { clientCertificate: target.clientCertificate } : {}),
      }),
      ...(forTls12 && forLegacy
        ? [
            mysqlTlsHandshake(forTls12, {
              signal,
              ...(contexts ? { contexts } : {}),
              servername: target.servername,
              maxVersion: 'TLSv1.2',
            }),
            mysqlTlsHandshake(forLegacy, {
              signal,
              ...(contexts ? { contexts } : {}),
              servername: target.servername,
              minVersion: 'TLSv1',
              maxVersion: 'TLSv1.1',
              ciphers: 'DEFAULT@SECLEVEL=0',
            }),
          ]
        : []),
    ]);
    if (options.signal.aborted) throw new InterruptedError();
    if (main.status === 'rejected') return { ...where, ...failure(main.reason, limit), elapsedMs: elapsed() };
    const checks = { upToTls12, legacy, served: options.shared?.served };
    return { ...where, ...describeOutcome(main.value, target, checks), elapsedMs: elapsed() };
  } catch (error) {
    if (options.signal.aborted) throw new InterruptedError();
    return { ...where, ...failure(error, limit), elapsedMs: elapsed() };
  } finally {
    for (const stream of streams) stream.destroy();
    limit.clear();
  }
}

/** The per-pod time limit, and which step it caught, for the message. */
class TimeLimit {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  step = 'opening the port-forward';

  constructor(readonly ms: number) {
    this.timer = setTimeout(
      () => this.controller.abort(new Error(`no answer within ${ms / 1000}s while ${this.step}`)),
      ms,
    );
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  clear(): void {
    clearTimeout(this.timer);
  }
}

function failure(error: unknown, limit: TimeLimit): Pick<PodProbe, 'result' | 'message'> {
  // Whatever the aborted stream threw, a pod that used up its time did not answer in time.
  if (limit.signal.aborted) {
    const reason = limit.signal.reason;
    return { result: 'timeout', message: reason instanceof Error ? reason.message : String(reason) };
  }
  if (error instanceof PortForwardError) {
    const result: ProbeResult =
      error.failure === 'forbidden' ? 'forbidden' : error.failure === 'refused' ? 'refused' : 'error';
    return { result, message: error.message };
  }
  if (error instanceof ApiError) return { result: 'error', message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  if (/greeting/.test(message)) return { result: 'error', message: `${message} (while ${limit.step})` };
  return { result: 'error', message };
}

/** `upToTls12` and `legacy` are absent when only the served certificate was read. */
function describeOutcome(
  outcome: HandshakeOutcome,
  target: ProbeTarget,
  checks: {
    upToTls12: PromiseSettledResult<HandshakeOutcome> | undefined;
    legacy: PromiseSettledResult<HandshakeOutcome> | undefined;
    served: ServedCache | undefined;
  },
): Omit<PodProbe, 'namespace' | 'pod' | 'elapsedMs'> {
  const { upToTls12, legacy } = checks;
  switch (outcome.kind) {
    case 'server-error':
      return { result: 'server-error', message: outcome.message };
    case 'no-tls':
      return {
        result: 'no-tls',
        message: 'its greeting lacks the CLIENT_SSL capability',
        serverVersion: outcome.greeting.serverVersion,
      };
    case 'handshake-failed':
      return {
        result: 'handshake-failed',
        message: opensslReason(outcome.message),
        serverVersion: outcome.greeting.serverVersion,
      };
    case 'tls': {
      const served = servedCertificate(outcome.chain, target.caPem, checks.served);
      const facts = {
        result: 'tls' as const,
        serverVersion: outcome.greeting.serverVersion,
        ...(served ? { served } : {}),
        protocol: outcome.protocol,
        cipher: outcome.cipher,
      };
      if (!upToTls12 || !legacy) return facts;
      const requested =
        outcome.certificateRequested ??
        (upToTls12.status === 'fulfilled' && upToTls12.value.kind === 'tls'
          ? (upToTls12.value.certificateRequested ?? null)
          : null);
      return {
        ...facts,
        legacyTls:
          legacy.status === 'rejected'
            ? 'unknown'
            : legacy.value.kind === 'tls'
              ? 'accepted'
              : legacy.value.kind === 'handshake-failed'
                ? 'refused'
                : 'unknown',
        clientCertificate: { requested, presented: Boolean(target.clientCertificate) && requested !== false },
      };
    }
  }
}

function servedCertificate(
  chain: X509Certificate[],
  caPem: string | undefined,
  seen: ServedCache | undefined,
): ServedCertificate | undefined {
  const [leaf, ...intermediates] = chain;
  if (!leaf) return undefined;
  // The pods of one database serve the same chain, checked against the same ca.crt: once is enough.
  const key = `${chain.map((certificate) => certificate.fingerprint256).join(',')}\n${caPem ?? ''}`;
  const known = seen?.get(key);
  if (known) return known;
  const served = {
    ...certificateFacts(leaf, chain.length),
    signedBySecretCa: checkCa(leaf, intermediates, caPem),
  };
  seen?.set(key, served);
  return served;
}

/** "wrong version number" out of OpenSSL's "C09C...:error:0A00010B:SSL routines:func:wrong version number:file:line:". */
function opensslReason(text: string): string {
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(text)?.[1];
  return (reason ?? text.split('\n')[0] ?? text).trim();
}
