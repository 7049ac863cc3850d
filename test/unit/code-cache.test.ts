import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandTree } from '../../src/cli/app.ts';
import type { CommandDefinition } from '../../src/cli/command.ts';
import { connectionFlags } from '../../src/cli/flags.ts';
import {
  allNamespaces,
  cacheFileName,
  commandKey,
  commandWords,
  finishedRun,
  userCacheDir,
  v8Flags,
  writableOnlyBy,
} from '../../src/util/code-cache.ts';

function flagsOf(commands: CommandDefinition[]): NonNullable<CommandDefinition['flags']> {
  return commands.flatMap((command) => [...(command.flags ?? []), ...flagsOf(command.subcommands ?? [])]);
}

function names(commands: CommandDefinition[]): string[] {
  return commands.flatMap((command) => [command.name, ...names(command.subcommands ?? [])]);
}

test('the cache key words are exactly the command names (and __complete)', () => {
  assert.deepEqual([...commandWords].sort(), [...new Set([...names(commandTree), '__complete'])].sort());
});

test('a key names the command, never a database, namespace or flag value', () => {
  assert.equal(commandKey(['tls', 'status', 'db', '-n', 'demo']), 'tls-status');
  assert.equal(commandKey(['-n', 'demo', 'tls', 'status']), 'tls-status');
  assert.equal(commandKey(['tls', 'status', 'status']), 'tls-status');
  assert.equal(commandKey(['--context', 'prod', 'version']), 'version');
  assert.equal(commandKey(['__complete', 'tls', 'status', '']), '__complete-tls');
  assert.equal(commandKey(['tls', 'status', '-A', '-o', 'json']), 'tls-status-all');
  assert.equal(commandKey(['tls', 'report', '--all-namespaces']), 'tls-report-all');
  assert.equal(commandKey(['frobnicate', 'x']), 'root');
  assert.equal(commandKey([]), 'root');
  assert.equal(cacheFileName('0123456789abcdef', 'tls-status'), '0123456789abcdef-tls-status.v8cache');
});

test('every namespace, read by pflag rules for -A and --all-namespaces (the only boolean shorthand)', () => {
  const all = [...connectionFlags, ...flagsOf(commandTree)];
  assert.deepEqual(
    [...new Set(all.filter((flag) => flag.type === 'boolean' && flag.alias).map((flag) => flag.alias))],
    ['A'],
  );
  const cases: [string[], boolean][] = [
    [['tls', 'status', '-A'], true],
    [['tls', 'status', '-Aowide'], true],
    [['tls', 'status', '-A=true'], true],
    [['tls', 'status', '-A=false'], false],
    [['tls', 'status', '--all-namespaces'], true],
    [['tls', 'status', '--all-namespaces=1'], true],
    [['tls', 'status', '--all-namespaces=False'], false],
    [['tls', 'status', '-A', '--all-namespaces=false'], false],
    [['tls', 'status', '--all-namespaces=false', '-A'], true],
    [['tls', 'status', '--all-namespaces=maybe'], false],
    [['tls', 'status', '--', '-A'], false],
    [['tls', 'status', 'db', '-n', 'demo'], false],
  ];
  for (const [args, expected] of cases) assert.equal(allNamespaces(args), expected, args.join(' '));
});

test('V8 favours memory over every namespace, speed for one database', () => {
  assert.deepEqual(v8Flags(['tls', 'status', '-A']), ['--optimize-for-size']);
  assert.deepEqual(v8Flags(['tls', 'status', '--all-namespaces=true']), ['--optimize-for-size']);
  assert.deepEqual(v8Flags(['tls', 'status', '--all-namespaces=false']), []);
  assert.deepEqual(v8Flags(['tls', 'status', 'db', '-n', 'demo']), []);
});

test("the user's cache folder, as Go's os.UserCacheDir finds it", () => {
  assert.equal(userCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/a'), '/x/cache');
  assert.equal(userCacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux', '/home/a'), '/home/a/.cache');
  assert.equal(userCacheDir({}, 'linux', '/home/a'), '/home/a/.cache');
  assert.equal(userCacheDir({}, 'linux', ''), undefined);
  assert.equal(userCacheDir({ XDG_CACHE_HOME: '/x' }, 'darwin', '/Users/a'), '/Users/a/Library/Caches');
  assert.equal(
    userCacheDir({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32', ''),
    'C:\\Users\\a\\AppData\\Local',
  );
  assert.equal(userCacheDir({}, 'win32', 'C:\\Users\\a'), undefined);
});

test("a cache file is used, and a folder written to, only when the user's and nobody else may write it", () => {
  const stat = (uid: number, mode: number) => ({ uid, mode });
  assert.equal(writableOnlyBy(stat(1000, 0o100600), 1000), true);
  assert.equal(writableOnlyBy(stat(1000, 0o100644), 1000), true);
  assert.equal(writableOnlyBy(stat(1000, 0o40700), 1000), true, 'a private folder');
  assert.equal(writableOnlyBy(stat(1001, 0o100600), 1000), false, "another user's file");
  assert.equal(writableOnlyBy(stat(1000, 0o100620), 1000), false, 'group-writable');
  assert.equal(writableOnlyBy(stat(1000, 0o41777), 1000), false, 'a folder anyone may write (/tmp)');
  assert.equal(writableOnlyBy(stat(0, 0o100666), undefined), true, 'no owners to compare (Windows)');
});

test('only a run that went through writes a cache (done, or findings reported)', () => {
  assert.deepEqual([0, 1, 2, 3, 124, 130].map(finishedRun), [true, true, false, false, false, false]);
});
