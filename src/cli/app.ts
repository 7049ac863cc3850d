/**
 * The command line: help, a bare group and a mistyped command are answered from the command
 * definitions alone; everything else goes to yargs, configured from the same definitions, for parsing
 * only. Handlers do not run inside yargs; the chosen command's run() is awaited afterwards, so errors
 * and exit codes have one path. yargs and each command's logic are loaded on demand, so `--help`
 * starts fast.
 */
import type { Argv } from 'yargs';
import { completionCommand } from '../commands/completion/command.ts';
import { completionRequest, runComplete } from '../commands/completion/complete-command.ts';
import { contextCommand } from '../commands/context/command.ts';
import { optionsCommand } from '../commands/options/command.ts';
import { tlsCommand } from '../commands/tls/command.ts';
import { versionCommand } from '../commands/version/command.ts';
import { CliError, ExitCode, UsageError } from '../errors.ts';
import type { Factory } from '../kube/factory.ts';
import { createRequestLog } from '../kube/request-log.ts';
import { oneAtATime } from '../util/bounded.ts';
import type { CliIO, CommandContext, CommandDefinition } from './command.ts';
import { connectionFlags, connectionFlagsFrom, type ParsedArgs, toYargsOptions } from './flags.ts';
import { helpWidth, renderHelp, suggestionsFor } from './help.ts';
import { locateCommand } from './locate.ts';

/** Every command, in help order. */
export const commandTree: CommandDefinition[] = [
  tlsCommand,
  contextCommand,
  versionCommand,
  completionCommand,
  optionsCommand,
];

/** The plugin itself: what `kubectl singlestore` with no arguments, or with --help, describes. */
export const rootCommand: CommandDefinition = {
  name: '',
  describe:
    "Turn on, check and rotate TLS for KubeDB SingleStore databases, with your kubeconfig and kubectl's flags",
  examples: [
    ['$0 tls status -A', 'every database in every namespace: is its TLS healthy?'],
    ['$0 tls enable sample-sdb -n demo --issuer sdb-issuer --wait', 'turn TLS on and follow it through'],
    ['$0 context', 'which cluster, user and namespace a command would act on'],
  ],
  subcommands: commandTree,
};

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
  // One for the command: every context's exec plugin that prompts waits for the others' prompts.
  const interactiveTurn = oneAtATime();
  const context: CommandContext = {
    io,
    displayName,
    now,
    factory: (argv) => buildFactory(argv, io, interactiveTurn),
  };
  try {
    const words = completionRequest(invocation);
    if (words) return await runComplete(words, commandTree, context);
    const located = locateCommand(invocation.args, rootCommand, connectionFlags);
    if (located.unknown !== undefined) throw unknownCommand(located.unknown, located.path, displayName);
    const command = located.path.at(-1) as CommandDefinition;
    if (located.help || !command.run) {
      io.out(renderHelp(located.path, { displayName, width: helpWidth(io.columns) }));
      // kubectl prints a group's help when no command of it is named, and exits non-zero; the
      // plugin alone is the first thing a new user types, and that is not a mistake.
      return located.help || invocation.args.length === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return await (await parse(invocation.args, context))();
  } catch (error) {
    return reportError(error, io, displayName, invocation.args);
  }
}

async function parse(args: string[], context: CommandContext): Promise<() => Promise<number>> {
  const { default: yargs } = await import('yargs');
  let selected: (() => Promise<number>) | undefined;
  const parser = yargs()
    .scriptName(context.displayName)
    .options(toYargsOptions(connectionFlags))
    .parserConfiguration({ 'boolean-negation': false })
    .strict()
    .version(false)
    .help(false)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  for (const definition of commandTree) {
    addCommand(parser, definition, context, (run) => {
      selected = run;
    });
  }
  await new Promise<void>((resolve, reject) => {
    try {
      parser.parse(args, {}, (error) => (error ? reject(error) : resolve()));
    } catch (error) {
      reject(error);
    }
  });
  if (!selected) throw new UsageError('name a command');
  return selected;
}

/** cobra's unknown-command error, with its "Did you mean this?" (spf13/cobra command.go findSuggestions). */
function unknownCommand(word: string, path: CommandDefinition[], displayName: string): UsageError {
  const parent = [displayName, ...path.slice(1).map((step) => step.name)].join(' ');
  const children = (path.at(-1)?.subcommands ?? []).filter((child) => !child.hidden);
  // `status` for `tls status`: a command of a group one level down, typed without its group.
  const nested = children.flatMap((child) =>
    (child.subcommands ?? [])
      .filter((grandchild) => grandchild.name === word)
      .map((grandchild) => `${child.name} ${grandchild.name}`),
  );
  const suggestions = [
    ...suggestionsFor(
      word,
      children.map((child) => child.name),
    ),
    ...nested,
  ];
  const hint = suggestions.length
    ? `\n\nDid you mean this?\n${suggestions.map((name) => `\t${name}\n`).join('')}`
    : '';
  return new UsageError(`unknown command "${word}" for "${parent}"${hint}`);
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
    describe: false,
    builder: (sub: Argv) => {
      for (const positional of definition.positionals ?? []) {
        sub.positional(positional.name, { describe: positional.describe, type: 'string' });
      }
      sub.options(toYargsOptions(definition.flags ?? []));
      for (const child of definition.subcommands ?? []) addCommand(sub, child, context, select);
      return sub;
    },
    handler: (argv) => {
      const run = definition.run;
      if (run) select(() => run(argv as ParsedArgs, context));
    },
  });
}

async function buildFactory(
  argv: ParsedArgs,
  io: CliIO,
  interactiveTurn: ReturnType<typeof oneAtATime>,
): Promise<Factory> {
  const { createFactory } = await import('../kube/factory.ts');
  const verbosity = typeof argv.v === 'number' ? argv.v : 0;
  return createFactory(
    connectionFlagsFrom(argv),
    { env: io.env, signal: io.signal, stdinIsTTY: io.stdinIsTTY ?? false, stderr: io.err, interactiveTurn },
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
      const path = locateCommand(args, rootCommand, connectionFlags).path.slice(1);
      io.err(`See '${[displayName, ...path.map((step) => step.name)].join(' ')} --help' for usage.\n`);
    }
    return error instanceof CliError ? error.exitCode : ExitCode.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`error: unexpected failure: ${message.split('\n')[0]}\n`);
  return ExitCode.runtime;
}
