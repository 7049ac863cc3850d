/**
 * The one way to reach the cluster (cmctl's pkg/factory): kubectl's flags in, the namespace and a
 * client out, built once per invocation and injected into every command's run().
 */
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../errors.ts';
import { parseRequestTimeout } from '../util/duration.ts';
import { KubeClient } from './client.ts';
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
  const client = new KubeClient(toKubeConfig(connection), {
    server: connection.cluster.server,
    requestTimeoutMs,
    user: connection.user,
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

/** client-node's KubeConfig for the one selected cluster and user: it applies certificates and exec plugins. */
function toKubeConfig(connection: ResolvedConnection): KubeConfig {
  const { cluster, user } = connection;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'selected',
        server: cluster.server,
        caFile: cluster['certificate-authority'],
        caData: cluster['certificate-authority-data'],
        skipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
        tlsServerName: cluster['tls-server-name'],
      },
    ],
    users: [
      {
        name: connection.userName || 'selected',
        token: user.token,
        certFile: user['client-certificate'],
        certData: user['client-certificate-data'],
        keyFile: user['client-key'],
        keyData: user['client-key-data'],
        exec: user.exec,
        authProvider: user['auth-provider'],
        username: user.username,
        password: user.password,
      },
    ],
    contexts: [{ name: 'selected', cluster: 'selected', user: connection.userName || 'selected' }],
    currentContext: 'selected',
  });
  return kubeConfig;
}
