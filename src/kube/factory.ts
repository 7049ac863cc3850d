/**
 * The one way to reach the cluster (cmctl's pkg/factory): kubectl's flags in, the namespace and a
 * client out, built once per invocation and injected into every command's run().
 */
import { UsageError } from '../errors.ts';
import { parseRequestTimeout } from '../util/duration.ts';
import { KubeClient } from './client.ts';
import { Credentials } from './credentials.ts';
import {
  type ConnectionFlags,
  type LoadEnvironment,
  type ResolvedConnection,
  resolveConnection,
} from './kubeconfig.ts';
import type { RequestLog } from './request-log.ts';
import { parseProxyUrl, proxyFromEnvironment } from './transport.ts';

/** What the connection needs from the process beyond the kubeconfig. */
export interface FactoryEnvironment extends LoadEnvironment {
  /** SIGINT/SIGTERM: aborts requests in flight and a running exec plugin. */
  signal?: AbortSignal | undefined;
  /** Whether stdin is a terminal (exec plugins' interactiveMode). */
  stdinIsTTY?: boolean;
  /** Where an exec credential plugin's stderr goes (prompts, device codes). */
  stderr?: (text: string) => void;
  /** Shared by every connection of one command: interactive exec plugins prompt one at a time. */
  interactiveTurn?: <R>(run: () => Promise<R>) => Promise<R>;
}

export interface Factory {
  connection: ResolvedConnection;
  /** The namespace commands act in: -n, else the context's, else "default". */
  namespace: string;
  client: KubeClient;
}

export function createFactory(
  flags: ConnectionFlags,
  environment: FactoryEnvironment,
  log: RequestLog,
  warn: (message: string) => void,
): Factory {
  const requestTimeoutMs = requestTimeout(flags.requestTimeout);
  const connection = resolveConnection(flags, environment);
  if (connection.cluster['insecure-skip-tls-verify']) {
    warn(
      `WARNING: TLS verification of ${connection.cluster.server} is disabled (insecure-skip-tls-verify): ` +
        'the connection is not protected against impersonation of the API server',
    );
  }
  const { cluster } = connection;
  const proxyUrl = cluster['proxy-url'];
  const proxy = proxyUrl
    ? parseProxyUrl(proxyUrl, connection.clusterName)
    : proxyFromEnvironment(new URL(cluster.server), environment.env);
  if (proxy && log.verbosity >= 6) log.line(`using the proxy ${proxy.protocol}//${proxy.host}`);
  const credentials = new Credentials(cluster, connection.user, connection.userName, {
    env: environment.env,
    stdinIsTTY: environment.stdinIsTTY ?? false,
    err: environment.stderr ?? (() => {}),
    signal: environment.signal,
    ...(environment.interactiveTurn ? { interactiveTurn: environment.interactiveTurn } : {}),
    // The credential cache's clock: expiry is compared with the real time, as client-go does.
    now: () => Date.now(),
    userFile: connection.userFile,
  });
  const client = new KubeClient(credentials, {
    server: cluster.server,
    requestTimeoutMs,
    userName: connection.user.as ?? connection.userName,
    log,
    proxy,
    signal: environment.signal,
  });
  return { connection, namespace: connection.namespace, client };
}

function requestTimeout(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  try {
    return parseRequestTimeout(text);
  } catch (error) {
    throw new UsageError(`--request-timeout: ${(error as Error).message}`);
  }
}
