/** What the commands that change the cluster (enable, rotate) get from the command line: one shape, built once. */
import type { CommandContext } from '../../cli/command.ts';
import type { ParsedArgs } from '../../cli/flags.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Writer } from '../../kube/request-log.ts';

export interface ActionDeps {
  client: KubeClient;
  out: Writer;
  err: Writer;
  /** Aborted by Ctrl-C/SIGTERM. */
  interrupt: AbortSignal;
  now: () => Date;
  /** "kubectl singlestore", for hints. */
  commandName: string;
}

export async function actionDeps(
  argv: ParsedArgs,
  context: CommandContext,
): Promise<{ deps: ActionDeps; namespace: string }> {
  const factory = await context.factory(argv);
  return {
    namespace: factory.namespace,
    deps: {
      client: factory.client,
      out: context.io.out,
      err: context.io.err,
      interrupt: context.io.signal,
      now: context.now,
      commandName: context.displayName,
    },
  };
}
