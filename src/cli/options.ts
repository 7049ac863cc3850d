/**
 * Flags bound to typed values: each declares its spec (for the parser, help and completion) and
 * reads its own value from the parsed argv, so a default is written once, next to its flag. Shared
 * by the commands that change the cluster (`--timeout`, `--wait`, `--method`, `--dry-run`,
 * `--concurrency`, `--warn-within`).
 */
import { UsageError } from '../errors.ts';
import type { DryRun } from '../kube/client.ts';
import { dryRunFlag, type FlagSpec, type ParsedArgs } from './flags.ts';
import { parseDurationFlag } from './validate.ts';

export interface TypedFlag<T> {
  spec: FlagSpec;
  read(argv: ParsedArgs): T;
}

/** `--timeout`: how long a wait may take (Go duration), in milliseconds. */
export function timeoutOption(describe: string, defaultValue = '10m'): TypedFlag<number> {
  return {
    spec: { name: 'timeout', type: 'string', describe, default: defaultValue },
    read: (argv) => parseDurationFlag('timeout', String(argv.timeout ?? defaultValue)),
  };
}

/** `--warn-within`: an expiry closer than this is a warning (Go duration or days). */
export function warnWithinOption(describe: string, defaultValue = '720h'): TypedFlag<number> {
  return {
    spec: { name: 'warn-within', type: 'string', describe, default: defaultValue },
    read: (argv) => parseDurationFlag('warn-within', String(argv['warn-within'] ?? defaultValue)),
  };
}

/** `--wait`: off unless given, or on by default where `defaultValue(argv)` says so. */
export function waitOption(
  describe: string,
  defaultValue: (argv: ParsedArgs) => boolean = () => false,
): TypedFlag<boolean> {
  return {
    spec: { name: 'wait', type: 'boolean', describe },
    read: (argv) => (typeof argv.wait === 'boolean' ? argv.wait : defaultValue(argv)),
  };
}

/** `--method`: one of `methods`, `auto` by default. */
export function methodOption<const M extends readonly string[]>(
  methods: M,
  describe: string,
): TypedFlag<M[number]> {
  return {
    spec: {
      name: 'method',
      type: 'string',
      describe,
      default: 'auto',
      choices: methods,
      complete: { kind: 'static', values: methods },
    },
    read: (argv) => {
      const value = String(argv.method ?? 'auto');
      if (!methods.includes(value))
        throw new UsageError(`--method: "${value}" is not one of ${methods.join(', ')}`);
      return value as M[number];
    },
  };
}

/** kubectl's `--dry-run=none|client|server`. */
export function dryRunOption(describe: string): TypedFlag<DryRun> {
  return {
    spec: dryRunFlag(describe),
    read: (argv) => String(argv['dry-run'] ?? 'none') as DryRun,
  };
}

/** `--concurrency`: databases changed at once, 1 to 50. */
export function concurrencyOption(describe: string, defaultValue = 3): TypedFlag<number> {
  return {
    spec: { name: 'concurrency', type: 'number', describe, default: defaultValue },
    read: (argv) => {
      const value = Number(argv.concurrency ?? defaultValue);
      if (!Number.isInteger(value) || value < 1 || value > 50)
        throw new UsageError('--concurrency must be a whole number from 1 to 50');
      return value;
    },
  };
}
