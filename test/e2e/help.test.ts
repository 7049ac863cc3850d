/**
 * Help and first contact through kubectl's plugin dispatch (dist/ on PATH, as a user has it), and
 * every cluster example of the help pages run against the test cluster, arranged so that the
 * examples' names exist.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import yaml from 'js-yaml';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Singlestore } from '../../src/kubedb/types.ts';
import { helpExamples, helpPages } from '../support/help-pages.ts';
import {
  adminClient,
  clusterDir,
  distDir,
  eventually,
  kubeconfig,
  kubectlApply,
  namespaceWithIssuer,
  repoRoot,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

function viaKubectl(args: string[]) {
  const result = spawnSync('kubectl', args, {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${distDir}:${process.env.PATH}`, KUBECONFIG: kubeconfig },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const snapshot = (name: string) =>
  readFileSync(path.join(repoRoot, 'test', 'snapshots', 'help', `${name}-80.txt`), 'utf8');

describe('help through kubectl', { skip: skipReason }, () => {
  test('`kubectl singlestore` prints the help and exits 0', () => {
    const result = viaKubectl(['singlestore']);
    assert.equal(result.code, ExitCode.ok, result.stderr);
    assert.equal(result.stdout, snapshot('root'));
  });

  test('`kubectl singlestore tls` prints the tls help and exits with the usage code', () => {
    const result = viaKubectl(['singlestore', 'tls']);
    assert.equal(result.code, ExitCode.usage);
    assert.equal(result.stdout, snapshot('tls'));
  });

  test('--help of every command: the layout, 80 columns when not a terminal', () => {
    for (const page of helpPages()) {
      const result = viaKubectl(['singlestore', ...page.words, '--help']);
      assert.equal(result.code, ExitCode.ok, `${page.name}: ${result.stderr}`);
      assert.equal(result.stdout, snapshot(page.name), page.name);
      for (const line of result.stdout.split('\n')) assert.ok(line.length <= 80, line);
    }
    assert.equal(viaKubectl(['singlestore', 'options']).stdout, snapshot('options-output'));
  });

  test('a mistyped command: "Did you mean this?", usage exit code', () => {
    const result = viaKubectl(['singlestore', 'tls', 'stauts']);
    assert.equal(result.code, ExitCode.usage);
    assert.match(
      result.stderr,
      /^error: unknown command "stauts" for "kubectl singlestore tls"\n\nDid you mean this\?\n\tstatus\n/,
    );
  });
});

describe('the examples of the help pages, against the test cluster', { skip: skipReason }, () => {
  // The examples' world: namespace demo (the current one) with sdb-issuer and a Singlestore
  // sample-sdb labelled env=prod, a ClusterIssuer ca, and a context named prod.
  const examplesKubeconfig = path.join(clusterDir, 'kubeconfig-help-examples');
  const examplesDir = mkdtempSync(path.join(os.tmpdir(), 'help-examples-'));
  after(() => rmSync(examplesDir, { recursive: true, force: true }));

  before(async () => {
    const config = yaml.load(readFileSync(kubeconfig, 'utf8')) as {
      contexts: { name: string; context: Record<string, string> }[];
      'current-context': string;
    };
    const admin = config.contexts.find((entry) => entry.name === 'admin');
    assert.ok(admin);
    admin.context.namespace = 'demo';
    config.contexts.push({ name: 'prod', context: { ...admin.context } });
    config['current-context'] = 'admin';
    writeFileSync(examplesKubeconfig, yaml.dump(config));
    await namespaceWithIssuer('demo');
    kubectlApply(
      [
        singlestoreYaml('sample-sdb', 'demo', { labels: { env: 'prod' } }),
        'apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: ca}\nspec: {selfSigned: {}}',
      ].join('\n---\n'),
    );
    const client = adminClient();
    await eventually('sample-sdb provisioned', async () => {
      const db = await client.get<Singlestore>(Resources.singlestore, 'demo', 'sample-sdb');
      return db.status?.phase === 'Ready';
    });
  });

  test('each exits 0 or 1 as its meaning says, never with a usage or API error', async () => {
    const examples = helpExamples().filter((example) => example.needsCluster);
    // What only reads or dry-runs first, then the changes: enable before rotate.
    // Client certificates need TLS on (after enable); the settings that use one, a client certificate.
    const afterEnable: Record<string, number> = { 'client-cert': 3, ca: 4, 'connect-info': 4 };
    // `--delete` removes what the others use, and `disable` turns TLS off: last.
    const phase = (args: string[]) =>
      (args.includes('--delete')
        ? 5
        : args[1] === 'disable' && !args.some((arg) => arg.startsWith('--dry-run'))
          ? 6
          : afterEnable[args[1] ?? '']) ??
      (args.some((arg) => arg.startsWith('--dry-run'))
        ? 0
        : args[1] === 'enable'
          ? 1
          : args[1] === 'rotate'
            ? 2
            : 0);
    examples.sort((a, b) => phase(a.args) - phase(b.args));
    assert.ok(examples.length >= 8);
    for (const example of examples) {
      const result = await runPlugin(example.args, {
        env: { KUBECONFIG: examplesKubeconfig },
        timeoutMs: 300_000,
        // tls report writes its archive in the current directory.
        cwd: examplesDir,
      });
      assert.ok(
        result.code === ExitCode.ok || result.code === ExitCode.findings,
        `${example.line}: exit ${result.code}\n${result.stderr}`,
      );
    }
  });
});
