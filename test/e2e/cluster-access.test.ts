/**
 * Cluster access through the factory, checked against kubectl on the same kubeconfig files:
 * contexts, -n, --as, multi-file KUBECONFIG, exec plugins, forbidden and unreachable servers.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ApiError, ExitCode } from '../../src/errors.ts';
import { createFactory } from '../../src/kube/factory.ts';
import { silentLog } from '../../src/kube/request-log.ts';
import { Resources } from '../../src/kube/resources.ts';
import { clusterDir, clusterEnv, kubeconfig, kubectl, runPlugin, skipReason } from './harness.ts';

interface ContextReport {
  context: string;
  server: string;
  namespace: string;
  authenticatedAs: { username: string; groups: string[] };
}

async function pluginContext(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<ContextReport> {
  const result = await runPlugin(['context', '-o', 'json', ...args], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as ContextReport;
}

function kubectlView(args: string[], env: Record<string, string | undefined> = {}) {
  const minified = JSON.parse(kubectl(['config', 'view', '--minify', '-o', 'json', ...args], env));
  const whoami = JSON.parse(kubectl(['auth', 'whoami', '-o', 'json', ...args], env));
  return {
    context: minified['current-context'] as string,
    server: minified.clusters[0].cluster.server as string,
    namespace: (minified.contexts[0].context.namespace as string | undefined) ?? 'default',
    username: whoami.status.userInfo.username as string,
    groups: whoami.status.userInfo.groups as string[],
  };
}

function assertSameAsKubectl(
  report: ContextReport,
  expected: ReturnType<typeof kubectlView>,
  namespace = expected.namespace,
) {
  assert.equal(report.context, expected.context);
  assert.equal(report.server, expected.server);
  assert.equal(report.namespace, namespace);
  assert.equal(report.authenticatedAs.username, expected.username);
  assert.deepEqual(report.authenticatedAs.groups, expected.groups);
}

describe('cluster access, as kubectl', { skip: skipReason }, () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'access-'));

  test('both contexts work and match kubectl', async () => {
    for (const context of ['admin', 'limited']) {
      assertSameAsKubectl(await pluginContext(['--context', context]), kubectlView(['--context', context]));
    }
  });

  test('-n overrides the context namespace; --as impersonates, as kubectl does', async () => {
    const report = await pluginContext(['--context', 'limited', '-n', 'elsewhere']);
    assert.equal(report.namespace, 'elsewhere');
    const impersonated = await pluginContext(['--as', 'alice', '--as-group', 'team-db']);
    assertSameAsKubectl(impersonated, kubectlView(['--as', 'alice', '--as-group', 'team-db']));
  });

  test('KUBECONFIG with several files: first current-context wins, duplicates skipped', async () => {
    // A second file whose current-context is `limited` and whose cluster `local` points nowhere.
    const second = path.join(scratch, 'second');
    writeFileSync(
      second,
      `apiVersion: v1
kind: Config
current-context: limited
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: elsewhere
  context: {cluster: local, user: admin, namespace: other}
users: []
`,
    );
    const firstWins = { KUBECONFIG: `${kubeconfig}:${second}` };
    assertSameAsKubectl(await pluginContext([], firstWins), kubectlView([], firstWins));

    // Reversed, the second file's context and cluster win: kubectl then talks to the dead address too.
    const reversed = { KUBECONFIG: `${second}:${kubeconfig}` };
    const view = JSON.parse(kubectl(['config', 'view', '--minify', '-o', 'json'], reversed));
    assert.equal(view['current-context'], 'limited');
    const result = await runPlugin(['context'], { env: reversed });
    assert.equal(result.code, ExitCode.runtime);
    assert.match(
      result.stderr,
      new RegExp(`cannot reach the API server at ${view.clusters[0].cluster.server}`),
    );
    const other = await pluginContext(
      [
        '--context',
        'elsewhere',
        '--server',
        kubectlView([]).server,
        '--certificate-authority',
        `${clusterDir}/pki/apiserver.crt`,
      ],
      reversed,
    );
    assert.equal(other.namespace, 'other');
  });

  test('an exec credential plugin provides the token; a failing one is a clear error', async () => {
    const token = clusterEnv().ADMIN_TOKEN as string;
    const plugin = path.join(scratch, 'credential-plugin');
    writeFileSync(
      plugin,
      `#!/bin/sh\ncase "$1" in\n fail) echo "login expired: run sso login" >&2; exit 1;;\n garbage) echo "<html>";;\n *) printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}';;\nesac\n`,
    );
    chmodSync(plugin, 0o755);
    const withExec = (mode: string) => {
      const file = path.join(scratch, `exec-${mode}`);
      const base = readFileSync(kubeconfig, 'utf8')
        .replace(/certificate-authority: pki/, `certificate-authority: ${clusterDir}/pki`)
        .replace(
          /- name: admin\n {2}user:\n {4}token: .*/,
          `- name: admin\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, args: [${mode}], interactiveMode: Never}`,
        );
      writeFileSync(file, base);
      return { KUBECONFIG: file };
    };
    const ok = await pluginContext([], withExec('ok'));
    assert.equal(ok.authenticatedAs.username, 'admin');
    const failed = await runPlugin(['context'], { env: withExec('fail') });
    assert.equal(failed.code, ExitCode.runtime);
    // The plugin's own stderr reaches the user as it is written (client-go does the same), then one line.
    assert.equal(
      failed.stderr,
      `login expired: run sso login\nerror: exec credential plugin "${plugin}" failed with exit code 1\n`,
    );
    const garbage = await runPlugin(['context'], { env: withExec('garbage') });
    assert.equal(garbage.code, ExitCode.runtime);
    assert.match(
      garbage.stderr,
      /^error: exec credential plugin ".*" printed something that is not an ExecCredential/,
    );
  });

  test('a forbidden request is one line naming the verb, resource, namespace and user', async () => {
    const { client } = createFactory({ kubeconfig, context: 'limited' }, { env: {} }, silentLog, () => {});
    await assert.rejects(client.list(Resources.secret, { namespace: 'demo' }), (error: Error) => {
      assert.ok(error instanceof ApiError && error.isForbidden);
      assert.equal(error.message, 'cannot list secrets in namespace "demo": forbidden for user "alice"');
      return true;
    });
    await assert.rejects(
      client.patch(
        Resources.singlestore,
        { namespace: 'demo', name: 'db1' },
        { metadata: { labels: { a: 'b' } } },
      ),
      /^ApiError: cannot patch singlestores\.kubedb\.com "db1" in namespace "demo": forbidden for user "alice"$/,
    );
  });

  test('an unreachable server: a clear error and exit code, within --request-timeout', async () => {
    const refused = await runPlugin(['context', '--server', 'https://127.0.0.1:1']);
    assert.equal(refused.code, ExitCode.runtime);
    assert.match(
      refused.stderr,
      /^error: cannot reach the API server at https:\/\/127\.0\.0\.1:1: connection refused/,
    );

    const silent = net.createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const slow = await runPlugin([
      'context',
      '--server',
      `https://127.0.0.1:${port}`,
      '--request-timeout',
      '1s',
    ]);
    silent.close();
    assert.equal(slow.code, ExitCode.runtime);
    assert.match(slow.stderr, /did not answer within 1s \(--request-timeout\)/);
    assert.ok(slow.ms < 3000, `took ${slow.ms} ms`);
  });

  test('a wrong CA is a TLS error naming the server, never a silent insecure fallback', async () => {
    const file = path.join(scratch, 'wrong-ca');
    const unrelatedCa = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'unrelated-ca.crt'));
    const config = readFileSync(kubeconfig, 'utf8').replace(
      /certificate-authority: pki\/apiserver.crt/,
      `certificate-authority-data: ${unrelatedCa.toString('base64')}`,
    );
    writeFileSync(file, config);
    const result = await runPlugin(['context'], { env: { KUBECONFIG: file } });
    assert.equal(result.code, ExitCode.runtime);
    assert.match(
      result.stderr,
      /^error: TLS verification of the API server at https:\/\/127\.0\.0\.1:\d+ failed/,
    );
  });

  test('--insecure-skip-tls-verify works but warns on stderr', async () => {
    const result = await runPlugin(['context', '--insecure-skip-tls-verify', '-o', 'json']);
    assert.equal(result.code, 0);
    assert.match(result.stderr, /^WARNING: TLS verification of https:\/\/127\.0\.0\.1:\d+ is disabled/);
  });

  test('-v 9 logs requests but never the bearer token', async () => {
    const { ADMIN_TOKEN } = clusterEnv();
    const result = await runPlugin(['context', '-v', '9']);
    assert.equal(result.code, 0);
    assert.match(
      result.stderr,
      /POST https:\/\/127\.0\.0\.1:\d+\/apis\/authentication\.k8s\.io\/v1\/selfsubjectreviews 201 Created in \d+ milliseconds/,
    );
    assert.match(result.stderr, /"Authorization":"Bearer <masked>"/);
    assert.ok(
      !result.stderr.includes(ADMIN_TOKEN as string) && !result.stdout.includes(ADMIN_TOKEN as string),
    );
  });
});
