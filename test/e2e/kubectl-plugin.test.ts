/** The binary as kubectl sees it: plugin discovery on PATH, and plugin completion through the helper. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { distDir, kubeconfig, skipReason } from './harness.ts';

function viaKubectl(args: string[]): string {
  return execFileSync('kubectl', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${distDir}:${process.env.PATH}`, KUBECONFIG: kubeconfig },
  });
}

describe('as a kubectl plugin', { skip: skipReason }, () => {
  test('kubectl finds the plugin and its help says "kubectl singlestore"', () => {
    assert.match(viaKubectl(['singlestore', 'version']), /^kubectl-singlestore v\d+\.\d+\.\d+ /);
    assert.match(
      viaKubectl(['singlestore', '--help']),
      /^Usage:\n {2}kubectl singlestore <command> \[options\]$/m,
    );
  });

  test('the binary starts clean: nothing on stderr', () => {
    const result = spawnSync(path.join(distDir, 'kubectl-singlestore'), ['version'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.equal(result.stderr, '');
  });

  test('kubectl completes the plugin through kubectl_complete-singlestore', () => {
    const commands = viaKubectl(['__complete', 'singlestore', '']);
    assert.match(commands, /^context\t/m);
    assert.match(commands, /^version\t/m);
    assert.match(commands, /:4\n?$/);
    assert.match(viaKubectl(['__complete', 'singlestore', '-n', '']), /^demo$/m);
    assert.match(viaKubectl(['__complete', 'singlestore', '--context', '']), /^admin\nlimited$/m);
    assert.match(viaKubectl(['__complete', 'singlestore', 'version', '--output', '']), /^json\nyaml$/m);
  });
});

describe('the start-up code cache', { skip: skipReason }, () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'code-cache-'));
  const cacheDir = path.join(home, 'kubectl-singlestore', 'code-cache');
  const run = (args: string[], cacheHome = home) =>
    spawnSync(path.join(distDir, 'kubectl-singlestore'), args, {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: cacheHome, KUBECONFIG: kubeconfig },
    });
  const cacheFile = (key: string) => {
    const files = existsSync(cacheDir) ? readdirSync(cacheDir) : [];
    const name = files.find((file) => file.endsWith(`-${key}.v8cache`));
    return name ? path.join(cacheDir, name) : undefined;
  };
  after(() => rmSync(home, { recursive: true, force: true }));

  test("a finished run writes its command's cache, 0600 in a 0700 folder; the next run takes it as is", () => {
    const first = run(['version']);
    assert.equal(first.status, 0);
    assert.equal(first.stderr, '');
    const file = cacheFile('version');
    assert.ok(file, 'a cache for version');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
    const written = statSync(file);
    const second = run(['version']);
    assert.equal(second.stdout, first.stdout);
    assert.equal(second.stderr, '');
    // A cache V8 refused would have been written again.
    assert.equal(statSync(file).mtimeMs, written.mtimeMs);
    assert.equal(statSync(file).ino, written.ino);
  });

  test('a run that stops on bad input writes nothing', () => {
    const result = run(['tls', 'status', '--frobnicate']);
    assert.equal(result.status, 2);
    assert.equal(cacheFile('tls-status'), undefined);
  });

  test('a damaged cache, or one others may write, is not used: the run is the same and writes its own', () => {
    const expected = run(['version']).stdout;
    const file = cacheFile('version') as string;
    writeFileSync(file, 'not a code cache', { mode: 0o600 });
    const damaged = run(['version']);
    assert.equal(damaged.status, 0);
    assert.equal(damaged.stdout, expected);
    assert.equal(damaged.stderr, '');
    assert.notEqual(readFileSync(file, 'latin1'), 'not a code cache');
    chmodSync(file, 0o660);
    const shared = statSync(file);
    const untrusted = run(['version']);
    assert.equal(untrusted.stdout, expected);
    assert.notEqual(statSync(file).ino, shared.ino, 'replaced by a file of its own');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('a cache folder others may write is not written to', () => {
    const shared = mkdtempSync(path.join(home, 'shared-'));
    const folder = path.join(shared, 'kubectl-singlestore', 'code-cache');
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, 0o777);
    const result = run(['version'], shared);
    assert.equal(result.status, 0);
    assert.equal(result.stderr, '');
    assert.deepEqual(readdirSync(folder), []);
  });

  test('no cache folder to be had: the command runs as ever, and says nothing of it', () => {
    const notAFolder = path.join(home, 'a-file');
    writeFileSync(notAFolder, '');
    const result = run(['version'], notAFolder);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^kubectl-singlestore v/);
    assert.equal(result.stderr, '');
  });
});
