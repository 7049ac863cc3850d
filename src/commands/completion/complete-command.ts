/**
 * `__complete` (and the `kubectl_complete-singlestore` helper name): answers shell completion
 * requests. Contexts, clusters and users come from the kubeconfig; namespaces and Singlestore names
 * from the cluster, with a short timeout so a slow cluster never hangs the shell.
 */

import type { Invocation } from '../../cli/app.ts';
import type { CommandContext, CommandDefinition } from '../../cli/command.ts';
import { type CompletionSource, connectionFlags } from '../../cli/flags.ts';
import { Resources } from '../../kube/resources.ts';
import { complete, formatCompletion, type TypedFlags } from './complete.ts';

/** The program name kubectl looks for on PATH to complete a plugin's arguments. */
export const helperProgramName = 'kubectl_complete-singlestore';

/** The words to complete, when this invocation is a completion request. */
export function completionRequest(invocation: Invocation): string[] | undefined {
  if (invocation.programName.replace(/\.exe$/i, '') === helperProgramName) return invocation.args;
  if (invocation.args[0] === '__complete') return invocation.args.slice(1);
  return undefined;
}

export async function runComplete(
  words: string[],
  tree: CommandDefinition[],
  context: CommandContext,
): Promise<number> {
  const result = await complete(words, tree, connectionFlags, (source, typed) =>
    lookup(source, typed, context),
  );
  context.io.out(formatCompletion(result));
  return 0;
}

async function lookup(
  source: CompletionSource,
  typed: TypedFlags,
  context: CommandContext,
): Promise<string[]> {
  const argv = { ...typed, 'request-timeout': typed['request-timeout'] ?? '5s' };
  switch (source.kind) {
    case 'contexts':
    case 'clusters':
    case 'users': {
      const { kubeconfigFiles, loadMergedKubeconfig } = await import('../../kube/kubeconfig.ts');
      const merged = loadMergedKubeconfig(
        kubeconfigFiles({ kubeconfig: typed.kubeconfig }, { env: context.io.env }),
      );
      const map =
        source.kind === 'contexts'
          ? merged.contexts
          : source.kind === 'clusters'
            ? merged.clusters
            : merged.users;
      return [...map.keys()];
    }
    case 'namespaces': {
      const { client } = await context.factory(argv);
      const list = await client.list(Resources.namespace);
      return list.items.map((item) => item.metadata.name);
    }
    case 'singlestores': {
      const { client, namespace } = await context.factory(argv);
      const list = await client.list(Resources.singlestore, { namespace });
      return list.items.map((item) => item.metadata.name);
    }
    case 'issuers': {
      // --cluster-issuer typed before --issuer: complete ClusterIssuers instead.
      const { client, namespace } = await context.factory(argv);
      const cluster = typed['cluster-issuer'] !== undefined;
      const list = cluster
        ? await client.list(Resources.clusterIssuer)
        : await client.list(Resources.issuer, { namespace });
      return list.items.map((item) => item.metadata.name);
    }
    default:
      return [];
  }
}
