/**
 * Help pages, rendered from the command definitions (as completion is), in kubectl's layout:
 * description, Examples, Available Commands, Options (the command's own flags), Usage, then the tips.
 * Section order and wording follow kubectl's MainUsageTemplate and OptionsUsageTemplate
 * (k8s.io/kubectl/pkg/util/templates/templates.go); the flag block follows its flag printer
 * (help_flags_printer.go: "    -o, --output='':" then the usage on the next line, one tab in), and the
 * examples are normalized as its Examples() does (normalizers.go: two spaces in). Pure: no parsing, no
 * cluster client, so `--help` starts as fast as `version`.
 */
import type { CommandDefinition } from './command.ts';
import type { FlagSpec } from './flags.ts';

export interface HelpLayout {
  /** "kubectl singlestore" as a plugin, the binary's name otherwise. */
  displayName: string;
  /** Columns to wrap at: the terminal's width, 80 when the output is not a terminal. */
  width: number;
}

/** The width help wraps at: the output terminal's columns, else 80. */
export function helpWidth(columns: number | undefined): number {
  return columns && columns > 0 ? columns : 80;
}

const flagIndent = '    ';
/** kubectl puts each flag's usage one tab in; spaces keep the width countable. */
const usageIndent = '        ';
const exampleIndent = '  ';
const continuationIndent = '      ';

/**
 * The help page of the last command of `path` (path[0] is the root: the plugin itself, with the
 * commands as its subcommands).
 */
export function renderHelp(path: CommandDefinition[], layout: HelpLayout): string {
  const command = path.at(-1) as CommandDefinition;
  const words = [layout.displayName, ...path.slice(1).map((step) => step.name)];
  const fullName = words.join(' ');
  const subcommands = (command.subcommands ?? []).filter((child) => !child.hidden);
  const sections: string[] = [wrap(sentence(command.describe), layout.width).join('\n')];
  if (command.examples?.length) {
    const examples = command.examples.map(([line, meaning]) =>
      [
        ...wrap(`# ${sentence(meaning, '')}`, layout.width, {
          first: exampleIndent,
          rest: `${exampleIndent}# `,
        }),
        ...continueLines(line.replaceAll('$0', layout.displayName), layout.width),
      ].join('\n'),
    );
    sections.push(`Examples:\n${examples.join('\n\n')}`);
  }
  if (subcommands.length) {
    const pad = Math.max(...subcommands.map((child) => child.name.length)) + 2;
    const lines = subcommands.flatMap((child) =>
      wrap(child.describe, layout.width, {
        first: `  ${child.name.padEnd(pad)} `,
        rest: ' '.repeat(pad + 3),
      }),
    );
    sections.push(`Available Commands:\n${lines.join('\n')}`);
  }
  if (command.flags?.length) sections.push(`Options:\n${flagBlock(command.flags, layout.width)}`);
  const usage = [
    ...(command.run ? [usageLine(command, fullName)] : []),
    ...(subcommands.length ? [`${fullName} <command> [options]`] : []),
  ];
  sections.push(
    `Usage:\n${usage.flatMap((line) => wrap(line, layout.width, { first: '  ', rest: continuationIndent })).join('\n')}`,
  );
  const tips = [
    ...(subcommands.length
      ? [`Use "${fullName} <command> --help" for more information about a command.`]
      : []),
    `Use "${layout.displayName} options" for a list of global command-line options (applies to all commands).`,
  ];
  return `${sections.join('\n\n')}\n\n${tips.flatMap((tip) => wrap(tip, layout.width)).join('\n')}\n`;
}

/** kubectl's `options` page: the flags every command takes. */
export function renderGlobalOptions(flags: FlagSpec[], width: number): string {
  return `The following options can be passed to any command:\n\n${flagBlock(flags, width)}\n`;
}

function usageLine(command: CommandDefinition, fullName: string): string {
  const positionals = (command.positionals ?? []).map((positional) =>
    positional.required ? `<${positional.name}>` : `[${positional.name}]`,
  );
  return [fullName, ...positionals, ...(command.flags?.length ? ['[options]'] : [])].join(' ');
}

/** "-o, --output='':" then the usage, one flag after another with a blank line between (kubectl). */
function flagBlock(flags: FlagSpec[], width: number): string {
  return flags
    .map((flag) => {
      const short = flag.alias ? `-${flag.alias}, ` : flag.name.length === 1 ? `-${flag.name}, ` : '';
      return [
        `${flagIndent}${short}--${flag.name}=${defaultText(flag)}:`,
        ...wrap(flag.describe, width, { first: usageIndent, rest: usageIndent }),
      ].join('\n');
    })
    .join('\n\n');
}

/** The default as pflag prints it: '' quoted for strings, [] for lists, bare for booleans and numbers. */
function defaultText(flag: FlagSpec): string {
  switch (flag.type) {
    case 'boolean':
      return String(flag.default ?? false);
    case 'number':
      return String(flag.default ?? 0);
    case 'array':
      return `[${Array.isArray(flag.default) ? flag.default.join(',') : ''}]`;
    default:
      return `'${flag.default ?? ''}'`;
  }
}

/** A capitalized sentence, with a full stop unless it ends in punctuation already. */
function sentence(text: string, stop = '.'): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?:]$/.test(capital) ? capital : `${capital}${stop}`;
}

export interface Indents {
  first: string;
  rest: string;
}

/** Greedy word wrap at spaces only: a word is never split; one longer than the line stands alone. */
export function wrap(text: string, width: number, indents: Indents = { first: '', rest: '' }): string[] {
  return fill(text.split(' ').filter(Boolean), width, { indents, lineEnd: '' });
}

/**
 * An example command that does not fit on one line is broken at spaces between shell words (never
 * inside quotes) and continued with ` \`, so it can still be pasted as it stands.
 */
function continueLines(command: string, width: number): string[] {
  return fill(shellWords(command), width, {
    indents: { first: exampleIndent, rest: continuationIndent },
    lineEnd: ' \\',
  });
}

function fill(words: string[], width: number, style: { indents: Indents; lineEnd: string }): string[] {
  const lines: string[] = [];
  let line = style.indents.first;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length + style.lineEnd.length > width) {
      lines.push(line + style.lineEnd);
      line = style.indents.rest + word;
    } else {
      line = empty ? line + word : `${line} ${word}`;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** The command split at spaces outside quotes, the quotes kept. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const character of command) {
    if (quote) {
      if (character === quote) quote = undefined;
    } else if (character === "'" || character === '"') {
      quote = character;
    } else if (character === ' ') {
      if (current) words.push(current);
      current = '';
      continue;
    }
    current += character;
  }
  if (current) words.push(current);
  return words;
}

/**
 * Close matches for a mistyped command: a prefix of it, or at most two edits away (cobra's
 * SuggestionsFor with its default SuggestionsMinimumDistance of 2, spf13/cobra command.go).
 */
export function suggestionsFor(typed: string, names: string[]): string[] {
  return names.filter(
    (name) =>
      levenshtein(typed.toLowerCase(), name.toLowerCase()) <= 2 ||
      name.toLowerCase().startsWith(typed.toLowerCase()),
  );
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
