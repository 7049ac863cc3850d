/**
 * The command line read as kubectl reads its flags (spf13/pflag) and counts its arguments
 * (spf13/cobra): every form of a flag, the order of words, and each mistake's message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandDefinition } from '../../src/cli/command.ts';
import { connectionFlags, type FlagSpec } from '../../src/cli/flags.ts';
import { parseArgs } from '../../src/cli/parse.ts';
import { UsageError } from '../../src/errors.ts';

const flags: FlagSpec[] = [
  { name: 'all-namespaces', alias: 'A', type: 'boolean', describe: '' },
  { name: 'watch', alias: 'w', type: 'boolean', describe: '' },
  { name: 'probe', type: 'boolean', describe: '', default: true },
  { name: 'output', alias: 'o', type: 'string', describe: '', choices: ['json', 'yaml'] },
  { name: 'selector', alias: 'l', type: 'string', describe: '' },
  { name: 'concurrency', type: 'number', describe: '', default: 3 },
  { name: 'dns-name', type: 'array', describe: '' },
];
const status: CommandDefinition = {
  name: 'status',
  describe: '',
  positionals: [{ name: 'name', describe: '', required: false }],
  flags,
};
const enable: CommandDefinition = {
  name: 'enable',
  describe: '',
  positionals: [{ name: 'name', describe: '', required: true }],
  flags,
};
const root: CommandDefinition = { name: '', describe: '' };
const tls: CommandDefinition = { name: 'tls', describe: '', subcommands: [status, enable] };
const parse = (args: string[], command = status) => parseArgs(args, [root, tls, command], connectionFlags);
const fails = (args: string[], message: RegExp, command = status) =>
  assert.throws(
    () => parse(args, command),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, message);
      return true;
    },
  );

test('long flags: --name value and --name=value; booleans take no word after them', () => {
  const argv = parse(['tls', 'status', '--namespace', 'demo', '--selector=app=db', '--probe', 'db']);
  assert.equal(argv.namespace, 'demo');
  assert.equal(argv.selector, 'app=db');
  assert.equal(argv.probe, true);
  assert.equal(argv.name, 'db');
  assert.equal(parse(['tls', 'status', '--probe=false']).probe, false);
  for (const spelling of ['0', 'f', 'F', 'FALSE', 'False']) {
    assert.equal(parse(['tls', 'status', `--probe=${spelling}`]).probe, false, spelling);
  }
  assert.equal(parse(['tls', 'status', '--output=']).output, undefined, 'an empty value is no choice');
});

test('short flags: -n value, -n=value, -nvalue, grouped booleans, -v as a one-letter name', () => {
  assert.equal(parse(['tls', 'status', '-n', 'demo']).namespace, 'demo');
  assert.equal(parse(['tls', 'status', '-n=demo']).namespace, 'demo');
  assert.equal(parse(['tls', 'status', '-ndemo']).namespace, 'demo');
  const grouped = parse(['tls', 'status', '-Aw']);
  assert.equal(grouped['all-namespaces'], true);
  assert.equal(grouped.watch, true);
  assert.equal(parse(['tls', 'status', '-Aojson']).output, 'json', 'a value ends a group');
  assert.equal(parse(['tls', 'status', '-A=false'])['all-namespaces'], false);
  assert.equal(parse(['tls', 'status', '-v', '6']).v, 6);
  assert.equal(parse(['tls', 'status', '--v=8']).v, 8);
  assert.equal(parse(['tls', 'status', '-v6']).v, 6);
});

test('a flag that takes a value takes the next word, whatever it looks like', () => {
  assert.equal(parse(['tls', 'status', '--as', '-x']).as, '-x');
  assert.equal(parse(['tls', 'status', '-n', '--', 'db']).namespace, '--');
});

test('flags anywhere, defaults when absent, the last of a repeated flag, one value per repeat', () => {
  const argv = parse(['-n', 'a', 'tls', '-n', 'b', 'status', 'db', '--dns-name', 'x,y', '--dns-name', 'z']);
  assert.equal(argv.namespace, 'b');
  assert.equal(argv.name, 'db');
  assert.deepEqual(argv['dns-name'], ['x,y', 'z']);
  assert.equal(argv.concurrency, 3);
  assert.equal(argv.probe, true);
  assert.equal(argv['request-timeout'], '0');
  assert.equal(parse(['tls', 'status', '--concurrency', '7']).concurrency, 7);
});

test('after -- every word is an argument', () => {
  assert.equal(parse(['tls', 'status', '--', '-db']).name, '-db');
  assert.equal(parse(['tls', 'status', 'status']).name, 'status', 'a name like a command word');
});

test("mistakes are pflag's and cobra's messages, naming the flag or the argument", () => {
  fails(['tls', 'status', '--frobnicate'], /^unknown flag: --frobnicate$/);
  fails(['tls', 'status', '-Ax'], /^unknown shorthand flag: 'x' in -Ax$/);
  fails(['tls', 'status', '--selector'], /^flag needs an argument: --selector$/);
  fails(['tls', 'status', '-l'], /^flag needs an argument: 'l' in -l$/);
  fails(
    ['tls', 'status', '-o', 'xml'],
    /^invalid argument "xml" for "-o, --output" flag: must be one of json, yaml$/,
  );
  fails(
    ['tls', 'status', '--probe=maybe'],
    /^invalid argument "maybe" for "--probe" flag: must be true or false$/,
  );
  // Only strconv.ParseBool's spellings: not a name every object has (it was once read as a function).
  fails(
    ['tls', 'status', '--probe=constructor'],
    /^invalid argument "constructor" for "--probe" flag: must be true or false$/,
  );
  fails(['tls', 'status', '--concurrency', 'many'], /invalid argument "many" for "--concurrency" flag/);
  fails(['tls', 'status', '--concurrency', ''], /invalid argument "" for "--concurrency" flag/);
  fails(['tls', 'status', 'a', 'b'], /^unexpected argument "b": accepts at most 1 arg\(s\), received 2$/);
  fails(['tls', 'enable'], /^missing argument <name>: accepts 1 arg\(s\), received 0$/, enable);
  fails(['tls', 'status', '--namespace'], /^flag needs an argument: --namespace$/);
});
