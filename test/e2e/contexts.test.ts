/**
 * Many clusters in one command: a kubeconfig with three contexts (the admin, a user forbidden to list
 * across namespaces, a server nobody answers at), checked in parallel by `tls status --contexts`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import type { MultiContextReport } from '../../src/commands/tls/status/contexts.ts';
import { ExitCode } from '../../src/errors.ts';
import type { StatusReport } from '../../src/tls/report.ts';
import { startApiProxy } from '../support/api-proxy.ts';
import {
  clusterDir,
  clusterEnv,
  kubeconfig,
  kubectl,
  kubectlApply,
  podsReady,
  repoRoot,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

// Beside the original: its certificate-authority paths are relative to the kubeconfig's folder.
const three = path.join(clusterDir, 'three-contexts.kubeconfig');
const env = { KUBECONFIG: three };
const ns = 'contexts-e2e';
const mine = ['-l', `suite=${ns}`];

describe('tls status across contexts', { skip: skipReason }, () => {
  before(async () => {
    copyFileSync(kubeconfig, three);
    kubectl(['config', 'set-cluster', 'down', '--server=https://127.0.0.1:1'], env);
    kubectl(['config', 'set-context', 'down', '--cluster=down', '--user=admin'], env);
    // A database of this file's own, selected by label: other files create and break databases of
    // theirs meanwhile, and two reads of "everything" a moment apart would not agree.
    kubectlApply(
      [
        `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}`,
        singlestoreYaml('ctx', ns, { labels: { suite: ns } }),
      ].join('\n---\n'),
    );
    await podsReady(ns, 'ctx', 2);
  });
  after(() => rmSync(three, { force: true }));

  test('one command, one table; the good context in full, the bad ones reported, the worst exit code', async () => {
    const alone = await runPlugin(['tls', 'status', '-A', ...mine, '--context', 'admin', '-o', 'json'], {
      env,
    });
    const good = JSON.parse(alone.stdout) as StatusReport;
    assert.deepEqual(
      good.databases.map((db) => `${db.namespace}/${db.name}`),
      [`${ns}/ctx`],
    );
    const result = await runPlugin(['tls', 'status', '-A', ...mine, '--contexts', 'admin,limited,down'], {
      env,
    });
    assert.equal(result.code, ExitCode.runtime, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^CONTEXT +NAMESPACE +NAME +TLS /);
    assert.equal(
      lines.filter((line) => line.startsWith('admin ')).length,
      Math.max(1, good.databases.length),
    );
    assert.match(
      result.stdout,
      /^limited +- .* ERROR +cannot list singlestores.kubedb.com in all namespaces: forbidden for user "alice"$/m,
    );
    assert.match(
      result.stdout,
      /^down +- .* ERROR +(cannot list \S+ in all namespaces: )?cannot reach the API server at https:\/\/127.0.0.1:1: connection refused/m,
    );

    const json = await runPlugin(['tls', 'status', '-A', ...mine, '--all-contexts', '-o', 'json'], { env });
    assert.equal(json.code, ExitCode.runtime);
    const multi = JSON.parse(json.stdout) as MultiContextReport;
    const schema = (name: string) =>
      JSON.parse(readFileSync(path.join(repoRoot, 'src', 'tls', name), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false, formats: { 'date-time': true } })
      .addSchema(schema('report.schema.json'))
      .compile(schema('contexts.schema.json'));
    assert.ok(validate(multi), JSON.stringify(validate.errors));
    assert.deepEqual(
      multi.contexts.map((c) => [c.context, c.exitCode, c.report !== undefined]),
      [
        ['admin', alone.code, true],
        ['down', ExitCode.runtime, false],
        ['limited', ExitCode.runtime, false],
      ],
    );
    assert.deepEqual(multi.contexts[0]?.report?.databases, good.databases);
    assert.deepEqual(multi.summary, {
      contexts: 3,
      ok: alone.code === 0 ? 1 : 0,
      findings: alone.code === 1 ? 1 : 0,
      failed: 2,
      exitCode: 3,
    });
  });

  test('contexts are read side by side: their requests overlap at the API servers', async () => {
    // Two contexts, each through a proxy of its own that holds every request 300 ms: read one after
    // the other, the second context's first request would come only after the first context's last
    // answer. Shown by when the requests arrive, not by a wall-time bound a busy machine can break.
    const delayMs = 300;
    const slow = path.join(clusterDir, 'slow-contexts.kubeconfig');
    copyFileSync(kubeconfig, slow);
    const slowEnv = { KUBECONFIG: slow };
    const arrivals: Record<string, number[]> = { 'slow-a': [], 'slow-b': [] };
    const pki = (file: string) => readFileSync(path.join(clusterDir, 'pki', file));
    const proxies = await Promise.all(
      Object.keys(arrivals).map((name) =>
        startApiProxy(
          clusterDir,
          clusterEnv().SERVER as string,
          () => {
            arrivals[name]?.push(performance.now());
            return { delayMs };
          },
          { tls: { cert: pki('apiserver.crt'), key: pki('apiserver.key') } },
        ),
      ),
    );
    try {
      for (const [index, name] of Object.keys(arrivals).entries()) {
        kubectl(['config', 'set-cluster', name, `--server=${proxies[index]?.url}`], slowEnv);
        kubectl(
          [
            'config',
            'set-cluster',
            name,
            `--certificate-authority=${path.join(clusterDir, 'pki', 'apiserver.crt')}`,
          ],
          slowEnv,
        );
        kubectl(['config', 'set-context', name, `--cluster=${name}`, '--user=admin'], slowEnv);
      }
      const result = await runPlugin(
        ['tls', 'status', '-A', '--contexts', 'slow-a,slow-b', '--probe=false'],
        { env: slowEnv },
      );
      assert.ok(result.code === ExitCode.ok || result.code === ExitCode.findings, result.stderr);
      const [a = [], b = []] = Object.values(arrivals);
      assert.ok(a.length > 0 && b.length > 0, `requests: ${a.length}, ${b.length}`);
      const span = (times: number[]) => [Math.min(...times), Math.max(...times) + delayMs];
      const [aFirst = 0, aLast = 0] = span(a);
      const [bFirst = 0, bLast = 0] = span(b);
      assert.ok(
        bFirst < aLast && aFirst < bLast,
        `slow-a ${Math.round(aFirst)}..${Math.round(aLast)} ms, slow-b ${Math.round(bFirst)}..${Math.round(bLast)} ms`,
      );
    } finally {
      for (const proxy of proxies) proxy.close();
      rmSync(slow, { force: true });
    }
  });

  test('tls report --contexts: one archive, a folder per context, one index and manifest, the worst exit code', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'report-contexts-'));
    try {
      const result = await runPlugin(
        ['tls', 'report', '-A', ...mine, '--contexts', 'admin,limited,down', '--probe=false'],
        { env, cwd: dir },
      );
      assert.equal(result.code, ExitCode.runtime, result.stderr);
      const archives = readdirSync(dir);
      assert.deepEqual(
        archives.map((file) => file.replace(/\d{8}T\d{6}Z/, 'TIME')),
        ['singlestore-tls-report-contexts-TIME.tar.gz'],
      );
      assert.equal(result.stdout, `${archives[0]}\n`);
      assert.match(
        result.stderr,
        /^down: error: (cannot list \S+ in all namespaces: )?cannot reach the API server/m,
      );
      assert.match(result.stderr, /^admin: Status: (OK|WARNING|CRITICAL)$/m);
      // The forbidden context is named as such, never "OK".
      assert.match(
        result.stderr,
        /^limited: Status: not readable: cannot list singlestores.kubedb.com in all namespaces: forbidden for user "alice"$/m,
      );
      execFileSync('tar', ['-xzf', archives[0] ?? ''], { cwd: dir });
      execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir });
      for (const file of [
        'index.json',
        'index.txt',
        'contexts/admin/status.json',
        'contexts/admin/versions.json',
        'contexts/limited/status.txt',
      ]) {
        assert.ok(existsSync(path.join(dir, file)), file);
      }
      assert.ok(!existsSync(path.join(dir, 'contexts', 'down')));
      assert.ok(!existsSync(path.join(dir, 'contexts', 'limited', 'status.json')));
      const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
        contexts: { context: string; outcome: string; exitCode: number }[];
      };
      assert.deepEqual(
        index.contexts.map((c) => [
          c.context,
          c.outcome === 'failed' || c.outcome === 'not readable' ? c.outcome : 'health',
          c.exitCode,
        ]),
        [
          ['admin', 'health', 0],
          ['limited', 'not readable', ExitCode.runtime],
          ['down', 'failed', ExitCode.runtime],
        ],
      );
      const good = JSON.parse(
        readFileSync(path.join(dir, 'contexts', 'admin', 'status.json'), 'utf8'),
      ) as StatusReport;
      assert.equal(good.kind, 'TLSStatusReport', 'the good context fully reported');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad input: unknown context, both flags, --context with --contexts', async () => {
    const unknown = await runPlugin(['tls', 'status', '--contexts', 'admin,nope'], { env });
    assert.equal(unknown.code, ExitCode.usage);
    assert.match(
      unknown.stderr,
      /^error: --contexts: no context named nope \(contexts: admin, down, limited\)/,
    );
    const both = await runPlugin(['tls', 'status', '--contexts', 'admin', '--all-contexts'], { env });
    assert.match(both.stderr, /^error: --contexts cannot be combined with --all-contexts/);
    const single = await runPlugin(['tls', 'status', '--contexts', 'admin', '--context', 'admin'], { env });
    assert.equal(single.code, ExitCode.usage);
  });
});
