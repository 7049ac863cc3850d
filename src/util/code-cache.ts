/**
 * Where the single executable keeps the V8 code cache of each command, and when a cache may be used.
 *
 * Node's own single-executable code cache (useCodeCache) is made by compiling the bundle without
 * running it, so it holds the top-level code only: every function a command calls is compiled again at
 * every start. A cache made as a run ends holds the functions that run compiled (V8's
 * ScriptCompiler::CreateCodeCache over a script that has run, what vm.Script#createCachedData returns),
 * and the next run of the same command starts from it. The cache is code, never data of the run: V8
 * serializes bytecode and the source's literals, not the heap.
 *
 * Read by cmd/single-executable.ts, before the bundle runs: nothing here may import the bundle's
 * modules beyond the command line's pure parser (and what it imports, the error classes).
 */
import path from 'node:path';
import { parseBoolean } from '../cli/parse.ts';

/**
 * The words that name a command (every name in the command tree, and `__complete`): the cache of
 * `tls status` holds other functions than the cache of `version`. Only these words make a key, so a
 * database or namespace name on the command line never names a file.
 */
export const commandWords: ReadonlySet<string> = new Set([
  'tls',
  'status',
  'enable',
  'rotate',
  'disable',
  'report',
  'ca',
  'client-cert',
  'connect-info',
  'context',
  'version',
  'completion',
  'options',
  '__complete',
]);

/**
 * Whether the run reads every namespace, read by pflag's rules for that one flag (src/cli/parse.ts):
 * `-A`, `-A=VALUE`, `--all-namespaces[=VALUE]`, the last one given winning, nothing after `--`. `-A`
 * is the plugin's only boolean shorthand (a unit test holds it), so `-Aowide` is -A, then -o wide.
 * A word that is in fact another flag's value (`-l -A`) only costs that run V8's memory mode.
 */
export function allNamespaces(args: readonly string[]): boolean {
  let all = false;
  for (const arg of args) {
    if (arg === '--') break;
    let value: string | undefined;
    if (arg === '--all-namespaces') value = 'true';
    else if (arg.startsWith('--all-namespaces=')) value = arg.slice('--all-namespaces='.length);
    else if (arg.startsWith('-A')) value = arg.startsWith('-A=') ? arg.slice(3) : 'true';
    if (value !== undefined) all = parseBoolean(value) ?? all;
  }
  return all;
}

/**
 * V8's flags for this run, set before the bundle is compiled (a cache is accepted only under the flags
 * it was made with, and a flag set later cannot be unset: the run's cache would be refused ever after).
 * A run over every namespace favours memory (`-A` over 2,000 databases peaked at 220 MiB without
 * --optimize-for-size, 150 MiB with it, in the same time: the API server sets the pace); one database
 * favours speed (the flag costs `tls status NAME` about 10 ms of 140).
 */
export function v8Flags(args: readonly string[]): string[] {
  return allNamespaces(args) ? ['--optimize-for-size'] : [];
}

/**
 * `tls-status` for `-n demo tls status db`: at most two command words, in their order; `-all` when the
 * run reads every namespace (other flags, another cache).
 */
export function commandKey(args: readonly string[]): string {
  const words = args.filter((arg) => commandWords.has(arg)).slice(0, 2);
  return (words.length ? words.join('-') : 'root') + (allNamespaces(args) ? '-all' : '');
}

/**
 * Go's os.UserCacheDir, as Go tools find their caches: %LocalAppData% on Windows,
 * ~/Library/Caches on macOS, else $XDG_CACHE_HOME when absolute, else ~/.cache.
 */
export function userCacheDir(
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform,
  home: string,
): string | undefined {
  if (platform === 'win32') return env.LocalAppData || env.LOCALAPPDATA || undefined;
  if (platform === 'darwin') return home ? path.join(home, 'Library', 'Caches') : undefined;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return xdg;
  return home ? path.join(home, '.cache') : undefined;
}

/** One file per build of the bundle and command: a new build never reads an older build's cache. */
export function cacheFileName(bundleDigest: string, key: string): string {
  return `${bundleDigest}-${key}.v8cache`;
}

/**
 * A cache file is run as code: it is read only when it is the user's and nobody else may write it (the
 * rule ssh applies to authorized_keys), and written only into a folder that is. Where there are no
 * owners to compare (Windows), the file's place in the user's own profile is the guard.
 */
export function writableOnlyBy(stat: { uid: number; mode: number }, uid: number | undefined): boolean {
  if (uid === undefined) return true;
  return stat.uid === uid && (stat.mode & 0o022) === 0;
}

/** Whether a run that ended with this code ran its command through (0: done, 1: findings reported). */
export function finishedRun(exitCode: number): boolean {
  return exitCode === 0 || exitCode === 1;
}
