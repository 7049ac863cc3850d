/**
 * What a command is, as data: its words, flags and positionals (for the parser, help and completion), and
 * the handler that turns parsed argv into typed options and calls the command's run().
 */
import type { Factory } from '../kube/factory.ts';
import type { Writer } from '../kube/request-log.ts';
import type { CompletionSource, FlagSpec, ParsedArgs } from './flags.ts';

export interface CliIO {
  out: Writer;
  err: Writer;
  env: Record<string, string | undefined>;
  /** Aborted on SIGINT/SIGTERM: waits stop and the command exits 130. */
  signal: AbortSignal;
  /** Whether stdout/stderr are terminals (live progress, colour). */
  isTTY: boolean;
  /** The width of `out` when it is a terminal; help wraps there (80 otherwise). */
  columns?: number;
  /** Whether stdin is a terminal: exec credential plugins may then prompt (interactiveMode). */
  stdinIsTTY?: boolean;
}

export interface CommandContext {
  io: CliIO;
  /** "kubectl singlestore" when run as a kubectl plugin, for help text and hints. */
  displayName: string;
  /** The cluster connection from the parsed kubectl flags; loads the Kubernetes client on first use. */
  factory(argv: ParsedArgs): Promise<Factory>;
  /** The clock, injected so expiry logic is testable. */
  now(): Date;
}

export interface PositionalSpec {
  name: string;
  describe: string;
  required: boolean;
  complete?: CompletionSource;
}

export interface CommandDefinition {
  name: string;
  describe: string;
  positionals?: PositionalSpec[];
  flags?: FlagSpec[];
  /** Example lines; `$0` becomes the display name. */
  examples?: [command: string, meaning: string][];
  subcommands?: CommandDefinition[];
  hidden?: boolean;
  /** Absent for a command that only groups subcommands. Returns the exit code. */
  run?: (argv: ParsedArgs, context: CommandContext) => Promise<number>;
}
