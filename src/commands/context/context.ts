/**
 * `context`: which cluster, user and namespace this plugin would use, and who the API server says we
 * are (a SelfSubjectReview, like `kubectl auth whoami`). The first thing to run on a customer's machine.
 */
import type { Factory } from '../../kube/factory.ts';
import type { Writer } from '../../kube/request-log.ts';
import { whoAmI } from '../../kube/whoami.ts';
import { type DataFormat, renderData } from '../../output/formats.ts';

export interface ContextOptions {
  output: DataFormat | 'text';
}

export interface ContextReport {
  context: string;
  cluster: string;
  server: string;
  namespace: string;
  kubeconfigUser: string;
  inCluster: boolean;
  authenticatedAs: { username: string; uid?: string; groups: string[] };
}

export async function gatherContext(factory: Factory): Promise<ContextReport> {
  const { connection, client } = factory;
  const user = await whoAmI(client);
  return {
    context: connection.contextName,
    cluster: connection.clusterName,
    server: connection.cluster.server,
    namespace: connection.namespace,
    kubeconfigUser: connection.userName,
    inCluster: connection.inCluster,
    authenticatedAs: {
      username: user.username ?? '',
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups ?? [],
    },
  };
}

export function renderContext(report: ContextReport, options: ContextOptions, out: Writer): void {
  if (options.output !== 'text') {
    out(renderData(report, options.output));
    return;
  }
  const who = report.authenticatedAs;
  const rows: [string, string][] = [
    ['Context:', report.inCluster ? '(in-cluster service account)' : report.context],
    ['Cluster:', `${report.cluster} (${report.server})`],
    [
      'User:',
      `${report.kubeconfigUser || '-'} (the API server sees "${who.username}"${who.groups.length ? `, groups ${who.groups.join(', ')}` : ''})`,
    ],
    ['Namespace:', report.namespace],
  ];
  for (const [label, value] of rows) out(`${label.padEnd(11)}${value}\n`);
}
