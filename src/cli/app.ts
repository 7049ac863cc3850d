/**
 * The command line: the words name a command (locate.ts), the rest are read against the same
 * definitions as kubectl reads its flags (parse.ts), and the command's run() is awaited, so errors
 * and exit codes have one path. Each command's logic is loaded on demand, so `--help` starts fast.
 */
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
import { connectionFlags, connectionFlagsFrom, type ParsedArgs } from './flags.ts';
import { helpWidth, renderHelp, suggestionsFor } from './help.ts';
import { locateCommand } from './locate.ts';
import { parseArgs } from './parse.ts';

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
    const argv = parseArgs(invocation.args, located.path, connectionFlags);
    return await command.run(argv, context);
  } catch (error) {
    return reportError(error, io, displayName, invocation.args);
  }
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
  const usage = error instanceof UsageError;
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
