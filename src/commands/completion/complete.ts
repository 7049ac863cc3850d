/**
 * Shell completion as a pure function of the words typed so far, in cobra's `__complete` protocol
 * (what kubectl >= 1.26 expects from a plugin's `kubectl_complete-<name>` helper): one candidate per
 * line, optionally "value<TAB>description", then ":<directive>".
 */
import type { CommandDefinition } from '../../cli/command.ts';
import type { CompletionSource, FlagSpec } from '../../cli/flags.ts';
import { findFlag, splitAssignment } from '../../cli/locate.ts';

/** cobra's ShellCompDirective bits. */
export const Directive = { default: 0, error: 1, noSpace: 2, noFileComp: 4 } as const;

export interface Candidate {
  value: string;
  description?: string;
}

export interface CompletionResult {
  candidates: Candidate[];
  directive: number;
}

/** Flag values typed before the cursor (e.g. --context), so lookups use the cluster the user means. */
export type TypedFlags = Record<string, string>;

export type Lookup = (source: CompletionSource, typed: TypedFlags) => Promise<string[]>;

interface Position {
  level: CommandDefinition[];
  command: CommandDefinition | undefined;
  flags: FlagSpec[];
  typed: TypedFlags;
  positionalIndex: number;
  /** A flag at the end of the typed words that still needs its value. */
  pendingFlag: FlagSpec | undefined;
}

export async function complete(
  words: string[],
  tree: CommandDefinition[],
  globalFlags: FlagSpec[],
  lookup: Lookup,
): Promise<CompletionResult> {
  const current = words.at(-1) ?? '';
  const position = walk(words.slice(0, -1), tree, globalFlags);
  try {
    if (position.pendingFlag)
      return await values(
        position.pendingFlag.complete,
        { prefix: current, emitPrefix: '' },
        position.typed,
        lookup,
      );
    const assignment = /^(--?[^=]+)=(.*)$/.exec(current);
    if (assignment) {
      const flag = findFlag(position.flags, assignment[1] as string);
      return await values(
        flag?.complete,
        { prefix: assignment[2] as string, emitPrefix: `${assignment[1]}=` },
        position.typed,
        lookup,
      );
    }
    if (current.startsWith('-')) return flagCandidates(position.flags, current);
    const subcommands = position.command ? (position.command.subcommands ?? []) : position.level;
    if (subcommands.length) {
      const candidates = subcommands
        .filter((command) => !command.hidden && command.name.startsWith(current))
        .map((command) => ({ value: command.name, description: command.describe }));
      return { candidates, directive: Directive.noFileComp };
    }
    const positional = position.command?.positionals?.[position.positionalIndex];
    return await values(positional?.complete, { prefix: current, emitPrefix: '' }, position.typed, lookup);
  } catch {
    return { candidates: [], directive: Directive.error };
  }
}

function walk(before: string[], tree: CommandDefinition[], globalFlags: FlagSpec[]): Position {
  const position: Position = {
    level: tree,
    command: undefined,
    flags: [...globalFlags],
    typed: {},
    positionalIndex: 0,
    pendingFlag: undefined,
  };
  for (let index = 0; index < before.length; index++) {
    const word = before[index] as string;
    if (word.startsWith('-') && word !== '-' && word !== '--') {
      const [name, inlineValue] = splitAssignment(word);
      const flag = findFlag(position.flags, name);
      if (!flag) continue;
      if (flag.type === 'boolean') {
        position.typed[flag.name] = 'true';
        continue;
      }
      if (inlineValue !== undefined) {
        position.typed[flag.name] = inlineValue;
      } else if (index + 1 < before.length) {
        position.typed[flag.name] = before[++index] as string;
      } else {
        position.pendingFlag = flag;
      }
      continue;
    }
    const children = position.command ? (position.command.subcommands ?? []) : position.level;
    const next = children.find((command) => command.name === word);
    if (next) {
      position.command = next;
      position.flags.push(...(next.flags ?? []));
      position.positionalIndex = 0;
    } else {
      position.positionalIndex++;
    }
  }
  return position;
}

function flagCandidates(flags: FlagSpec[], current: string): CompletionResult {
  const candidates: Candidate[] = [];
  for (const flag of flags) {
    const long = flag.name.length === 1 ? `-${flag.name}` : `--${flag.name}`;
    for (const form of [long, flag.alias ? `-${flag.alias}` : undefined]) {
      if (form?.startsWith(current)) candidates.push({ value: form, description: flag.describe });
    }
  }
  return { candidates, directive: Directive.noFileComp };
}

async function values(
  source: CompletionSource | undefined,
  typing: { prefix: string; emitPrefix: string },
  typed: TypedFlags,
  lookup: Lookup,
): Promise<CompletionResult> {
  const { prefix, emitPrefix } = typing;
  if (!source) return { candidates: [], directive: Directive.noFileComp };
  if (source.kind === 'files') return { candidates: [], directive: Directive.default };
  const all = source.kind === 'static' ? [...source.values] : await lookup(source, typed);
  const candidates = all
    .filter((value) => value.startsWith(prefix))
    .map((value) => ({ value: emitPrefix + value }));
  return { candidates, directive: Directive.noFileComp };
}

export function formatCompletion(result: CompletionResult): string {
  const lines = result.candidates.map((candidate) =>
    candidate.description ? `${candidate.value}\t${candidate.description}` : candidate.value,
  );
  return `${[...lines, `:${result.directive}`].join('\n')}\n`;
}
