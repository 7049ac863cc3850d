/**
 * The command line's words as values, read as kubectl reads its own: flags by spf13/pflag's rules
 * (flag.go, parseLongArg and parseShortArg), arguments counted as spf13/cobra's args.go counts them.
 * - `--name value`, `--name=value`; a boolean takes no word after it, only `--name=false`;
 * - `-n value`, `-n=value`, `-nvalue`, and booleans grouped (`-Aw`);
 * - a flag that takes a value takes the next word whatever it looks like (`--as -x` impersonates "-x");
 * - a repeatable flag keeps one value per occurrence; any other flag given twice keeps the last;
 * - everything after `--` is an argument.
 * Pure: the words and the definitions in, the values or a UsageError out. No parser library: this is
 * all the plugin needs of one, and it costs start-up nothing.
 */
import { UsageError } from '../errors.ts';
import type { CommandDefinition } from './command.ts';
import type { FlagSpec, ParsedArgs } from './flags.ts';

/**
 * The values of `args` for the command at the end of `path` (its words are skipped where they stand):
 * one key per flag name, given or defaulted, and one per positional argument given.
 */
export function parseArgs(args: string[], path: CommandDefinition[], globalFlags: FlagSpec[]): ParsedArgs {
  const flags = [...globalFlags, ...path.flatMap((command) => command.flags ?? [])];
  const values: ParsedArgs = {};
  const positionals: string[] = [];
  let commandWords = 1;
  for (let index = 0; index < args.length; index++) {
    const word = args[index] as string;
    const next = (): string | undefined => (index + 1 < args.length ? args[++index] : undefined);
    if (word === '--') {
      positionals.push(...args.slice(index + 1));
      break;
    }
    if (word.startsWith('--')) {
      readLong(word, flags, values, next);
    } else if (word.startsWith('-') && word !== '-') {
      readShorts(word, flags, values, next);
    } else if (positionals.length === 0 && path[commandWords]?.name === word) {
      commandWords++;
    } else {
      positionals.push(word);
    }
  }
  for (const flag of flags) {
    if (values[flag.name] === undefined && flag.default !== undefined) values[flag.name] = flag.default;
  }
  bindPositionals(positionals, path.at(-1) as CommandDefinition, values);
  return values;
}

function readLong(word: string, flags: FlagSpec[], values: ParsedArgs, next: () => string | undefined): void {
  const equals = word.indexOf('=');
  const name = equals < 0 ? word.slice(2) : word.slice(2, equals);
  const flag = flags.find((candidate) => candidate.name === name);
  if (!flag) throw new UsageError(`unknown flag: --${name}`);
  let value = equals < 0 ? undefined : word.slice(equals + 1);
  if (value === undefined) value = flag.type === 'boolean' ? 'true' : next();
  if (value === undefined) throw new UsageError(`flag needs an argument: --${name}`);
  setValue(flag, value, values);
}

function readShorts(
  word: string,
  flags: FlagSpec[],
  values: ParsedArgs,
  next: () => string | undefined,
): void {
  for (let at = 1; at < word.length; at++) {
    const letter = word[at] as string;
    const flag = flags.find((candidate) => shorthandOf(candidate) === letter);
    if (!flag) throw new UsageError(`unknown shorthand flag: '${letter}' in ${word}`);
    const rest = word.slice(at + 1);
    if (flag.type === 'boolean') {
      if (rest.startsWith('=')) {
        setValue(flag, rest.slice(1), values);
        return;
      }
      setValue(flag, 'true', values);
      continue;
    }
    const value = rest !== '' ? rest.replace(/^=/, '') : next();
    if (value === undefined) throw new UsageError(`flag needs an argument: '${letter}' in ${word}`);
    setValue(flag, value, values);
    return;
  }
}

/** The one letter a flag answers to after a single dash: its alias, or a one-letter name (-v). */
function shorthandOf(flag: FlagSpec): string | undefined {
  if (flag.alias?.length === 1) return flag.alias;
  return flag.name.length === 1 ? flag.name : undefined;
}

/** pflag's form of a flag in its messages: "-o, --output", or "--output". */
function written(flag: FlagSpec): string {
  const letter = shorthandOf(flag);
  return letter && letter !== flag.name ? `-${letter}, --${flag.name}` : `--${flag.name}`;
}

function invalid(flag: FlagSpec, value: string, why: string): UsageError {
  return new UsageError(`invalid argument "${value}" for "${written(flag)}" flag: ${why}`);
}

/** strconv.ParseBool's spellings, which pflag accepts for a boolean flag. */
const booleans: Record<string, boolean> = {
  '1': true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
};

/** A boolean flag's value as pflag reads it (strconv.ParseBool), or undefined for any other word. */
export function parseBoolean(value: string): boolean | undefined {
  return Object.hasOwn(booleans, value) ? booleans[value] : undefined;
}

function setValue(flag: FlagSpec, value: string, values: ParsedArgs): void {
  switch (flag.type) {
    case 'boolean': {
      const parsed = parseBoolean(value);
      if (parsed === undefined) throw invalid(flag, value, 'must be true or false');
      values[flag.name] = parsed;
      return;
    }
    case 'number': {
      const parsed = value.trim() === '' ? Number.NaN : Number(value);
      if (!Number.isFinite(parsed)) throw invalid(flag, value, 'must be a number');
      values[flag.name] = parsed;
      return;
    }
    case 'array': {
      const earlier = values[flag.name];
      values[flag.name] = [...(Array.isArray(earlier) ? earlier : []), value];
      return;
    }
    case 'string':
      // kubectl reads `-o ''` as no format given: the default.
      if (flag.choices && value === '') {
        delete values[flag.name];
        return;
      }
      if (flag.choices && !flag.choices.includes(value))
        throw invalid(flag, value, `must be one of ${flag.choices.join(', ')}`);
      values[flag.name] = value;
  }
}

/** cobra's argument counts (args.go: ExactArgs, RangeArgs), naming what is missing or extra. */
function bindPositionals(given: string[], command: CommandDefinition, values: ParsedArgs): void {
  const specs = command.positionals ?? [];
  const required = specs.filter((spec) => spec.required).length;
  if (given.length > specs.length) {
    const extra = given[specs.length] as string;
    const accepts = specs.length === 0 ? 'accepts no arguments' : `accepts at most ${specs.length} arg(s)`;
    throw new UsageError(`unexpected argument "${extra}": ${accepts}, received ${given.length}`);
  }
  if (given.length < required) {
    const missing = (specs[given.length] as { name: string }).name;
    throw new UsageError(
      `missing argument <${missing}>: accepts ${required === specs.length ? '' : 'at least '}${required} arg(s), received ${given.length}`,
    );
  }
  specs.forEach((spec, index) => {
    if (index < given.length) values[spec.name] = given[index];
  });
}
