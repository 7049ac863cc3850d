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

test('--contexts: plugins that prompt take turns, plugins that do not run together', async () => {
  const { runCli } = await import('../../src/cli/app.ts');
  const work = mkdtempSync(path.join(tmpdir(), 'exec-turns-'));
  const log = path.join(work, 'log');
  // Writes "start"/"end" around a pause, as a plugin waiting for the user would.
  const plugin = path.join(work, 'prompting-plugin');
  writeFileSync(
    plugin,
    `#!/bin/sh
echo "start $$" >> "${log}"
sleep 0.3
echo "end $$" >> "${log}"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}'
`,
  );
  chmodSync(plugin, 0o755);
  const kubeconfigFor = (mode: string) => {
    const names = ['a', 'b', 'c'];
    const file = path.join(work, `kubeconfig-${mode}`);
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'down', cluster: { server: 'https://127.0.0.1:1' } }],
        users: names.map((name) => ({
          name,
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: plugin,
              interactiveMode: mode,
            },
          },
        })),
        contexts: names.map((name) => ({ name, context: { cluster: 'down', user: name } })),
        'current-context': 'a',
      }),
    );
    return file;
  };
  // The most plugin runs going on at once, from the log.
  const overlap = async (mode: string) => {
    writeFileSync(log, '');
    const code = await runCli(
      { programName: 'kubectl-singlestore', args: ['tls', 'status', '-A', '--all-contexts'] },
      {
        out: () => {},
        err: () => {},
        env: { PATH: process.env.PATH ?? '', KUBECONFIG: kubeconfigFor(mode) },
        signal: new AbortController().signal,
        isTTY: false,
        stdinIsTTY: true,
      },
    );
    assert.equal(code, 3, 'the server is down: every context fails after its credential');
    let running = 0;
    let most = 0;
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    for (const line of lines) {
      running += line.startsWith('start') ? 1 : -1;
      most = Math.max(most, running);
    }
    assert.equal(lines.length, 6, 'one run per context');
    return most;
  };
  assert.equal(await overlap('IfAvailable'), 1, 'stdin is a terminal: one prompt at a time');
  assert.equal(await overlap('Always'), 1);
  assert.equal(await overlap('Never'), 3, 'no stdin, no prompt: no reason to wait');
});
