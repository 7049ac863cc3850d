/**
 * The command line: yargs configured from the command definitions, parsing only. Handlers do not run
 * inside yargs; the chosen command's run() is awaited afterwards, so errors and exit codes have one path.
 */
import yargs, { type Argv } from 'yargs';
import { completionCommand } from '../commands/completion/command.ts';
import { completionRequest, runComplete } from '../commands/completion/complete-command.ts';
import { contextCommand } from '../commands/context/command.ts';
import { tlsCommand } from '../commands/tls/command.ts';
import { versionCommand } from '../commands/version/command.ts';
import { CliError, ExitCode, UsageError } from '../errors.ts';
import type { Factory } from '../kube/factory.ts';
import { createRequestLog } from '../kube/request-log.ts';
import type { CliIO, CommandContext, CommandDefinition } from './command.ts';
import { connectionFlags, connectionFlagsFrom, type ParsedArgs, toYargsOptions } from './flags.ts';

/** Every command, in help order. */
export const commandTree: CommandDefinition[] = [
  tlsCommand,
  contextCommand,
  versionCommand,
  completionCommand,
];

export interface Invocation {
  /** basename of the executable, to tell a kubectl plugin from a renamed binary. */
  programName: string;
  args: string[];
}

export function displayNameFor(programName: string): string {
  const base = programName.replace(/\.exe$/i, '');
  return base.startsWith('kubectl-') ? `kubectl ${base.slice('kubectl-'.length).replace(/_/g, '-')}` : base;
}

export async function runCli(
  invocation: Invocation,
  io: CliIO,
  now: () => Date = () => new Date(),
): Promise<number> {
  const displayName = displayNameFor(invocation.programName);
  const context: CommandContext = { io, displayName, now, factory: (argv) => buildFactory(argv, io) };
  try {
    const words = completionRequest(invocation);
    if (words) return await runComplete(words, commandTree, context);
    const parsed = await parse(invocation.args, context);
    if (parsed.kind === 'output') {
      io.out(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
      return ExitCode.ok;
    }
    return await parsed.run();
  } catch (error) {
    return reportError(error, io, displayName, invocation.args);
  }
}

type Parsed = { kind: 'output'; text: string } | { kind: 'run'; run: () => Promise<number> };

async function parse(args: string[], context: CommandContext): Promise<Parsed> {
  let selected: (() => Promise<number>) | undefined;
  const parser = yargs()
    .scriptName(context.displayName)
    .usage(
      `${context.displayName} <command> [flags]\n\nTurn on, understand and rotate TLS for KubeDB SingleStore.`,
    )
    .options(toYargsOptions(connectionFlags))
    .parserConfiguration({ 'boolean-negation': false })
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .version(false)
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(120, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  for (const definition of commandTree) {
    addCommand(parser, definition, context, (run) => {
      selected = run;
    });
  }
  const output = await new Promise<string>((resolve, reject) => {
    try {
      parser.parse(args, {}, (error, _argv, text) => (error ? reject(error) : resolve(text)));
    } catch (error) {
      reject(error);
    }
  });
  if (selected) return { kind: 'run', run: selected };
  return { kind: 'output', text: output };
}

function addCommand(
  parser: Argv,
  definition: CommandDefinition,
  context: CommandContext,
  select: (run: () => Promise<number>) => void,
): void {
  const positionals = (definition.positionals ?? [])
    .map((positional) => (positional.required ? `<${positional.name}>` : `[${positional.name}]`))
    .join(' ');
  parser.command({
    command: positionals ? `${definition.name} ${positionals}` : definition.name,
    describe: definition.hidden ? false : definition.describe,
    builder: (sub: Argv) => {
      sub.usage(
        `${context.displayName} ${definition.name}${positionals ? ` ${positionals}` : ''} [flags]\n\n${definition.describe}`,
      );
      for (const positional of definition.positionals ?? []) {
        sub.positional(positional.name, { describe: positional.describe, type: 'string' });
      }
      sub.options(toYargsOptions(definition.flags ?? []));
      for (const [example, meaning] of definition.examples ?? []) {
        sub.example(example.replace('$0', context.displayName), meaning);
      }
      for (const child of definition.subcommands ?? []) addCommand(sub, child, context, select);
      if (definition.subcommands?.length && !definition.run) sub.demandCommand(1, 'name a subcommand');
      return sub;
    },
    handler: (argv) => {
      const run = definition.run;
      if (run) select(() => run(argv as ParsedArgs, context));
    },
  });
}

async function buildFactory(argv: ParsedArgs, io: CliIO): Promise<Factory> {
  const { createFactory } = await import('../kube/factory.ts');
  const verbosity = typeof argv.v === 'number' ? argv.v : 0;
  return createFactory(
    connectionFlagsFrom(argv),
    { env: io.env, signal: io.signal, stdinIsTTY: io.stdinIsTTY ?? false, stderr: io.err },
    createRequestLog(verbosity, io.err),
    (message) => io.err(`${message}\n`),
  );
}

function reportError(error: unknown, io: CliIO, displayName: string, args: string[]): number {
  // yargs reports its own parse problems as plain Errors named YError, with a one-line message.
  const usage = error instanceof UsageError || (error instanceof Error && error.name === 'YError');
  if (usage || error instanceof CliError) {
    io.err(`error: ${(error as Error).message}\n`);
    if (usage) {
      const path = commandPath(args.filter((arg) => !arg.startsWith('-')).slice(0, 2));
      io.err(`See '${[displayName, ...path].join(' ')} --help' for usage.\n`);
    }
    return error instanceof CliError ? error.exitCode : ExitCode.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`error: unexpected failure: ${message.split('\n')[0]}\n`);
  return ExitCode.runtime;
}

/** The longest prefix of `words` that names a command, for the "See ... --help" hint. */
function commandPath(words: string[]): string[] {
  const path: string[] = [];
  let level = commandTree;
  for (const word of words) {
    const found = level.find((definition) => definition.name === word && !definition.hidden);
    if (!found) break;
    path.push(word);
    level = found.subcommands ?? [];
  }
  return path;
}
