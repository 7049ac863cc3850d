import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandTree } from '../../src/cli/app.ts';
import { connectionFlags } from '../../src/cli/flags.ts';
import {
  complete,
  Directive,
  formatCompletion,
  type Lookup,
} from '../../src/commands/completion/complete.ts';

const calls: { kind: string; typed: Record<string, string> }[] = [];
const lookup: Lookup = async (source, typed) => {
  calls.push({ kind: source.kind, typed });
  if (source.kind === 'namespaces') return ['default', 'demo', 'kube-system'];
  if (source.kind === 'contexts') return ['admin', 'limited'];
  if (source.kind === 'singlestores') return ['sdb-a', 'sdb-b', 'other'];
  if (source.kind === 'issuers') return typed['cluster-issuer'] ? ['global-ca'] : ['sdb-issuer'];
  return [];
};

const values = async (...words: string[]) =>
  (await complete(words, commandTree, connectionFlags, lookup)).candidates.map((c) => c.value);

test('top level: the commands, with descriptions, no files', async () => {
  const result = await complete([''], commandTree, connectionFlags, lookup);
  assert.deepEqual(
    result.candidates.map((c) => c.value),
    ['tls', 'context', 'version', 'completion', 'options'],
  );
  assert.ok(result.candidates.every((c) => c.description));
  assert.equal(result.directive, Directive.noFileComp);
  assert.deepEqual(await values('ver'), ['version']);
});

test('flags: global kubectl flags and the command’s own', async () => {
  assert.deepEqual(await values('--cont'), ['--context']);
  assert.ok((await values('version', '-')).includes('--output'));
  assert.ok((await values('version', '-')).includes('-o'));
  assert.ok(!(await values('-')).includes('--output'));
});

test('flag values: static choices, contexts, namespaces from the cluster', async () => {
  assert.deepEqual(await values('version', '-o', ''), ['json', 'yaml']);
  assert.deepEqual(await values('version', '--output=y'), ['--output=yaml']);
  assert.deepEqual(await values('--context', ''), ['admin', 'limited']);
  assert.deepEqual(await values('-n', 'd'), ['default', 'demo']);
  assert.deepEqual(await values('completion', ''), ['bash', 'zsh', 'fish', 'powershell', 'helper']);
});

test('subcommands and Singlestore names', async () => {
  assert.deepEqual(await values('tls', ''), [
    'status',
    'enable',
    'rotate',
    'disable',
    'client-cert',
    'ca',
    'connect-info',
    'report',
  ]);
  assert.deepEqual(await values('tls', 'status', 'sdb'), ['sdb-a', 'sdb-b']);
  assert.deepEqual(await values('-n', 'demo', 'tls', 'status', '-o', ''), ['wide', 'json', 'yaml']);
  assert.ok((await values('tls', 'status', '--')).includes('--warn-within'));
  assert.deepEqual(await values('tls', 'status', 'sdb-a', ''), []);
});

test('--issuer completes Issuers, or ClusterIssuers after --cluster-issuer', async () => {
  assert.deepEqual(await values('tls', 'enable', 'sdb-a', '--issuer', ''), ['sdb-issuer']);
  assert.deepEqual(await values('tls', 'enable', 'sdb-a', '--cluster-issuer', '--issuer', ''), ['global-ca']);
});

test('lookups see the flags typed before the cursor', async () => {
  calls.length = 0;
  await values('--context', 'limited', '--kubeconfig=/tmp/k', '-n', '');
  assert.deepEqual(calls[0]?.typed, { context: 'limited', kubeconfig: '/tmp/k' });
});

test('file flags leave completion to the shell', async () => {
  const result = await complete(['--kubeconfig', ''], commandTree, connectionFlags, lookup);
  assert.equal(result.directive, Directive.default);
});

test('a failing lookup is an error directive, not a crash', async () => {
  const failing: Lookup = async () => {
    throw new Error('unreachable');
  };
  const result = await complete(['-n', ''], commandTree, connectionFlags, failing);
  assert.deepEqual(result, { candidates: [], directive: Directive.error });
});

test('output is cobra’s: value<TAB>description lines, then :directive', () => {
  assert.equal(
    formatCompletion({ candidates: [{ value: 'a', description: 'the a' }, { value: 'b' }], directive: 4 }),
    'a\tthe a\nb\n:4\n',
  );
});
