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

export interface Factory {
  connection: ResolvedConnection;
  /** The namespace commands act in: -n, else the context's, else "default". */
  namespace: string;
  client: KubeClient;
}

export function createFactory(
  flags: ConnectionFlags,
  environment: LoadEnvironment,
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
  const credentials = new Credentials(connection.cluster, connection.user, connection.userName);
  const client = new KubeClient(credentials, {
    server: connection.cluster.server,
    requestTimeoutMs,
    userName: connection.user.as ?? connection.userName,
    log,
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
