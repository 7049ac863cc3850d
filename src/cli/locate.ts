/**
 * Which command the words on the command line name, found from the definitions before any parsing,
 * so that help, a bare group and a mistyped command are answered without loading the parser.
 */
import type { CommandDefinition } from './command.ts';
import type { FlagSpec } from './flags.ts';

export interface Located {
  /** From the root (the plugin itself) to the command named. */
  path: CommandDefinition[];
  /** A word where a group expected one of its commands. */
  unknown?: string;
  /** -h or --help was given. */
  help: boolean;
}

export function locateCommand(args: string[], root: CommandDefinition, globalFlags: FlagSpec[]): Located {
  const path = [root];
  const flags = [...globalFlags];
  let help = false;
  let positionals = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') break;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      const [name, inlineValue] = splitAssignment(arg);
      const flag = findFlag(flags, name);
      // A flag that takes a value takes the next word, unless written --flag=value.
      if (flag && flag.type !== 'boolean' && inlineValue === undefined) index++;
      continue;
    }
    const current = path.at(-1) as CommandDefinition;
    if (positionals || !current.subcommands?.length) {
      positionals = true;
      continue;
    }
    const next = current.subcommands.find((child) => child.name === arg);
    if (!next) return { path, unknown: arg, help };
    path.push(next);
    flags.push(...(next.flags ?? []));
  }
  return { path, help };
}

/** "--flag=value" as ["--flag", "value"]; a word without "=" as [word, undefined]. */
export function splitAssignment(word: string): [string, string | undefined] {
  const equals = word.indexOf('=');
  return equals < 0 ? [word, undefined] : [word.slice(0, equals), word.slice(equals + 1)];
}

/** The flag a written "--name", "-n" or "-v" means. */
export function findFlag(flags: FlagSpec[], written: string): FlagSpec | undefined {
  const bare = written.replace(/^--?/, '');
  return flags.find((flag) => flag.name === bare || flag.alias === bare);
}
