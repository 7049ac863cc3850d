/** The binary as kubectl sees it: plugin discovery on PATH, and plugin completion through the helper. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
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

  test('the binary starts clean: no warning on stderr (a rejected code cache would print one)', () => {
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
