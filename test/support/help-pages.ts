/**
 * TEST-ONLY: every help page the plugin has, and every example in them as the argument list the
 * plugin receives, for the help snapshot, example and kubectl-dispatch tests.
 */
import { rootCommand } from '../../src/cli/app.ts';
import type { CommandDefinition } from '../../src/cli/command.ts';

export interface HelpPage {
  /** The command words, e.g. ['tls', 'status']; [] for the plugin itself. */
  words: string[];
  command: CommandDefinition;
  /** The snapshot file's base name. */
  name: string;
}

export function helpPages(command: CommandDefinition = rootCommand, words: string[] = []): HelpPage[] {
  const page = { words, command, name: words.length ? words.join('-') : 'root' };
  return [
    page,
    ...(command.subcommands ?? [])
      .filter((child) => !child.hidden)
      .flatMap((child) => helpPages(child, [...words, child.name])),
  ];
}

export interface Example {
  page: string;
  /** As written in the definition, `$0` for the plugin. */
  line: string;
  /** What the plugin itself receives when the line is run by a shell. */
  args: string[];
  /** Whether the command talks to a cluster (everything but version, completion and options). */
  needsCluster: boolean;
}

const offline = new Set(['version', 'completion', 'options']);

export function helpExamples(): Example[] {
  return helpPages().flatMap((page) =>
    (page.command.examples ?? []).map(([line]) => {
      const args = pluginArgs(line);
      return { page: page.name, line, args, needsCluster: !offline.has(args[0] ?? '') };
    }),
  );
}

/**
 * The words after `$0` up to the first shell operator (`|`, `>`, `)`, ...), quotes removed: enough
 * shell for `source <($0 completion bash)`, `$0 ... | jq '...'` and `$0 ... > file`.
 */
export function pluginArgs(line: string): string[] {
  const tokens: { text: string; operator: boolean }[] = [];
  let current: string | undefined;
  let quote: string | undefined;
  const flush = () => {
    if (current !== undefined) tokens.push({ text: current, operator: false });
    current = undefined;
  };
  for (const character of line) {
    if (quote) {
      if (character === quote) quote = undefined;
      else current = (current ?? '') + character;
    } else if (character === "'" || character === '"') {
      quote = character;
      current = current ?? '';
    } else if (character === ' ') {
      flush();
    } else if ('|&;<>()'.includes(character)) {
      flush();
      tokens.push({ text: character, operator: true });
    } else {
      current = (current ?? '') + character;
    }
  }
  flush();
  const start = tokens.findIndex((token) => !token.operator && token.text === '$0');
  if (start < 0) throw new Error(`example without $0: ${line}`);
  const end = tokens.findIndex((token, index) => index > start && token.operator);
  return tokens.slice(start + 1, end < 0 ? undefined : end).map((token) => token.text);
}
