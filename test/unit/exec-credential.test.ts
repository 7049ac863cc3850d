import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ExecCredentialSource, parseExecConfig } from '../../src/kube/exec-credential.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'exec-credential-'));
const script = path.join(dir, 'plugin');
// Prints token-N (N: its run count) expiring at $EXPIRES, if set.
writeFileSync(
  script,
  `#!/bin/sh
echo run >> "${dir}/runs"
n=$(wc -l < "${dir}/runs" | tr -d ' ')
expiry=""
[ -n "$EXPIRES" ] && expiry=",\\"expirationTimestamp\\":\\"$EXPIRES\\""
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"token-%s"%s}}' "$n" "$expiry"
`,
);
chmodSync(script, 0o755);

function source(env: Record<string, string>, now: () => number) {
  writeFileSync(path.join(dir, 'runs'), '');
  const config = parseExecConfig(
    { apiVersion: 'client.authentication.k8s.io/v1', command: script, interactiveMode: 'Never' },
    'u',
  );
  return new ExecCredentialSource(config, undefined, { env, stdinIsTTY: false, err: () => {}, now });
}
const runs = () => readFileSync(path.join(dir, 'runs'), 'utf8').split('\n').length - 1;

test('no expiry: one run for the process, shared by concurrent callers', async () => {
  const credentials = source({ PATH: process.env.PATH ?? '' }, () => Date.now());
  const all = await Promise.all([credentials.get(), credentials.get(), credentials.get()]);
  assert.deepEqual(
    all.map((c) => c.token),
    ['token-1', 'token-1', 'token-1'],
  );
  assert.equal((await credentials.get()).token, 'token-1');
  assert.equal(runs(), 1);
});

test('cached until its expirationTimestamp, then run again', async () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const credentials = source({ PATH: process.env.PATH ?? '', EXPIRES: '2030-01-01T00:10:00Z' }, () => now);
  assert.equal((await credentials.get()).token, 'token-1');
  now += 9 * 60_000;
  assert.equal((await credentials.get()).token, 'token-1');
  now += 2 * 60_000;
  assert.equal((await credentials.get()).token, 'token-2');
  assert.equal(runs(), 2);
});

test('a 401 drops the credential it was sent with, once', async () => {
  const credentials = source({ PATH: process.env.PATH ?? '' }, () => Date.now());
  assert.equal((await credentials.get()).token, 'token-1');
  assert.equal(credentials.unauthorized('token-1'), true);
  assert.equal((await credentials.get()).token, 'token-2');
  // A late 401 for the old token does not throw the new one away: it is retried with it.
  assert.equal(credentials.unauthorized('token-1'), true);
  assert.equal((await credentials.get()).token, 'token-2');
  assert.equal(runs(), 2);
});

test('the exec stanza is checked as clientcmd does', () => {
  assert.throws(() => parseExecConfig({ command: 'x' }, 'u'), /apiVersion must be specified/);
  assert.throws(
    () => parseExecConfig({ command: 'x', apiVersion: 'client.authentication.k8s.io/v1alpha1' }, 'u'),
    /not supported/,
  );
  assert.throws(
    () => parseExecConfig({ command: 'x', apiVersion: 'client.authentication.k8s.io/v1' }, 'u'),
    /interactiveMode must be specified/,
  );
  assert.equal(
    parseExecConfig({ command: 'x', apiVersion: 'client.authentication.k8s.io/v1beta1' }, 'u')
      .interactiveMode,
    'IfAvailable',
  );
});
