/**
 * Faults: the compiled binary against the real control plane through a fault-injecting proxy of our
 * own on loopback (test/support/api-proxy.ts). The API server "stops" by the proxy refusing
 * connections, so the other test files sharing the cluster are not disturbed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Certificate, OpsRequest, Singlestore } from '../../src/kubedb/types.ts';
import { type ApiProxy, type BeforeForward, startApiProxy } from '../support/api-proxy.ts';
import {
  adminClient,
  clusterDir,
  clusterEnv,
  eventually,
  kubectlApply,
  namespaceWithIssuer,
  runPlugin,
  singlestoreYaml,
  skipReason,
  startPlugin,
} from './harness.ts';

const ns = 'faults-e2e';
const client = adminClient();
const dbs = ['down-enable', 'down-rotate', 'conflicts', 'watch-cut', 'term'];

function database(name: string, tls: boolean): string {
  return singlestoreYaml(name, ns, tls ? { issuer: 'sdb-issuer' } : {});
}

let fault: BeforeForward = () => undefined;
let proxy: ApiProxy;
const viaProxy = (args: string[], timeoutMs = 120_000) =>
  runPlugin([...args, '--server', proxy.url], { timeoutMs });
const opsFor = async (db: string) =>
  (await client.list<OpsRequest>(Resources.opsRequest, { namespace: ns })).items.filter(
    (r) => r.spec.databaseRef.name === db,
  );
const revision = async (name: string) =>
  (await client.get<Certificate>(Resources.certificate, ns, `${name}-server-cert`)).status?.revision ?? 0;

describe('faults', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(
      [
        ...dbs.map((name) => database(name, name === 'down-rotate' || name === 'conflicts')),
        `apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: broken-issuer, namespace: ${ns}}\nspec: {ca: {secretName: no-such-ca}}`,
      ].join('\n---\n'),
    );
    await eventually('databases provisioned', async () => {
      const list = await client.list<Singlestore>(Resources.singlestore, { namespace: ns });
      return list.items.length === dbs.length && list.items.every((db) => db.status?.phase === 'Ready');
    });
    await eventually(
      'certificates issued',
      async () => (await revision('down-rotate')) >= 1 && (await revision('conflicts')) >= 1,
    );
    proxy = await startApiProxy(clusterDir, clusterEnv().SERVER as string, (request) => fault(request));
  });
  after(() => proxy?.close());

  test('API server down before a command: a clear error and exit 3', async () => {
    await proxy.stop();
    try {
      const result = await viaProxy(['tls', 'status', '-n', ns]);
      assert.equal(result.code, ExitCode.runtime);
      assert.match(
        result.stderr,
        /^error: (cannot list .*: )?cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: connection refused/,
      );
    } finally {
      await proxy.start();
    }
  });

  test('API server lost in the middle of enable --wait: exit 3; after it is back the re-run finishes with no duplicate ops request', async () => {
    fault = (request) => {
      if (request.method === 'POST' && request.url.includes('singlestoreopsrequests'))
        setTimeout(() => void proxy.stop(), 50);
      return undefined;
    };
    const broken = await viaProxy([
      'tls',
      'enable',
      'down-enable',
      '-n',
      ns,
      '--issuer',
      'sdb-issuer',
      '--wait',
    ]);
    fault = () => undefined;
    await proxy.start();
    assert.equal(broken.code, ExitCode.runtime, broken.stderr);
    assert.match(broken.stderr, /cannot reach the API server at http:\/\/127\.0\.0\.1:\d+/);
    const rerun = await viaProxy([
      'tls',
      'enable',
      'down-enable',
      '-n',
      ns,
      '--issuer',
      'sdb-issuer',
      '--wait',
    ]);
    assert.equal(rerun.code, ExitCode.ok, rerun.stdout + rerun.stderr);
    assert.equal((await opsFor('down-enable')).length, 1, 'one ops request in all');
  });

  test('API server lost in the middle of rotate: the re-run issues no extra certificate', async () => {
    const start = await revision('down-rotate');
    fault = (request) => {
      if (request.method === 'PATCH' && request.url.includes('/certificates/down-rotate-client-cert/status'))
        setTimeout(() => void proxy.stop(), 20);
      return undefined;
    };
    const broken = await viaProxy(['tls', 'rotate', 'down-rotate', '-n', ns, '--method', 'cert-manager']);
    fault = () => undefined;
    await proxy.start();
    assert.equal(broken.code, ExitCode.runtime, broken.stderr);
    const rerun = await viaProxy(['tls', 'rotate', 'down-rotate', '-n', ns, '--method', 'cert-manager']);
    assert.equal(rerun.code, ExitCode.ok, rerun.stdout + rerun.stderr);
    assert.equal(await revision('down-rotate'), start + 1, 'exactly one new issuance');
  });

  test('409 Conflict on every patch: retried on a fresh read; the other writer and we both land', async () => {
    const seen = new Set<string>();
    fault = async (request) => {
      const match = /\/namespaces\/faults-e2e\/(singlestores|certificates)\/([^/?]+)(\?|$)/.exec(request.url);
      if (request.method === 'PATCH' && match && !seen.has(request.url)) {
        seen.add(request.url);
        const type = match[1] === 'singlestores' ? Resources.singlestore : Resources.certificate;
        await client.patch(
          type,
          { namespace: ns, name: match[2] as string },
          {
            metadata: { labels: { 'other-writer': 'was-here' } },
          },
        );
      }
      return undefined;
    };
    try {
      const rotated = await viaProxy([
        'tls',
        'rotate',
        'conflicts',
        '-n',
        ns,
        '--method',
        'cert-manager',
        '--restart-with',
        'annotation',
      ]);
      assert.equal(rotated.code, ExitCode.ok, rotated.stdout + rotated.stderr);
      assert.match(rotated.stdout, /changed while marking it \(conflict\); retrying on a fresh read/);
      const certificate = await client.get<Certificate>(Resources.certificate, ns, 'conflicts-server-cert');
      assert.equal(certificate.metadata.labels?.['other-writer'], 'was-here');
      const reconfigured = await viaProxy([
        'tls',
        'enable',
        'conflicts',
        '-n',
        ns,
        '--issuer',
        'sdb-issuer',
        '--dns-name',
        'x.example.com',
        '--method',
        'patch',
        '--overwrite',
      ]);
      assert.equal(reconfigured.code, ExitCode.ok, reconfigured.stderr);
      const db = await client.get<Singlestore>(Resources.singlestore, ns, 'conflicts');
      assert.equal(db.metadata.labels?.['other-writer'], 'was-here');
      assert.deepEqual(db.spec?.tls?.certificates, [{ alias: 'server', dnsNames: ['x.example.com'] }]);
    } finally {
      fault = () => undefined;
    }
  });

  test('429 with Retry-After and 503 on reads are retried; a write answered 503 is not repeated', async () => {
    let throttled = 0;
    fault = (request) => {
      if (request.method === 'GET' && request.url.includes('/singlestores') && throttled < 2) {
        throttled++;
        return throttled === 1 ? { respond: 429, headers: { 'Retry-After': '1' } } : { respond: 503 };
      }
      return undefined;
    };
    const status = await viaProxy(['tls', 'status', '-n', ns, '-v', '6']);
    assert.ok(status.code === ExitCode.ok || status.code === ExitCode.findings, status.stderr);
    assert.match(status.stderr, /429; retrying in 1000 ms \(1\/3\)/);
    assert.match(status.stderr, /503; retrying in 400 ms \(2\/3\)/);
    assert.ok(status.ms >= 1000);

    const before = proxy.requests.length;
    fault = (request) => (request.method === 'POST' ? { respond: 503 } : undefined);
    const write = await viaProxy(['tls', 'enable', 'term', '-n', ns, '--issuer', 'sdb-issuer']);
    fault = () => undefined;
    assert.equal(write.code, ExitCode.runtime);
    assert.match(
      write.stderr,
      /^error: cannot create singlestoreopsrequests\.ops\.kubedb\.com in namespace "faults-e2e": 503/m,
    );
    assert.equal(
      proxy.requests.slice(before).filter((r) => r.method === 'POST').length,
      1,
      'the write was sent once',
    );
    assert.deepEqual(await opsFor('term'), []);
  });

  test('watches cut by the server and answered 410 Gone: the wait resumes and sees the end', async () => {
    let gone = 0;
    fault = (request) => {
      if (!request.url.includes('watch=true')) return undefined;
      if (gone++ === 0)
        return {
          respond: 410,
          body: JSON.stringify({
            kind: 'Status',
            code: 410,
            reason: 'Expired',
            message: 'too old resource version',
          }),
        };
      return { cutAfterMs: 300 };
    };
    try {
      const result = await viaProxy([
        'tls',
        'enable',
        'watch-cut',
        '-n',
        ns,
        '--issuer',
        'sdb-issuer',
        '--wait',
        '--timeout',
        '90s',
      ]);
      assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
      assert.ok(
        proxy.requests.filter((r) => r.url.includes('watch=true')).length > 3,
        'watches were re-opened',
      );
    } finally {
      fault = () => undefined;
    }
  });

  test('a server slower than --request-timeout: a timeout error, exit 3, on time', async () => {
    fault = () => ({ delayMs: 3000 });
    try {
      const result = await viaProxy(['tls', 'status', '-n', ns, '--request-timeout', '1s']);
      assert.equal(result.code, ExitCode.runtime);
      assert.match(result.stderr, /did not answer within 1s \(--request-timeout\)/);
      assert.ok(result.ms < 2500, `${result.ms} ms`);
    } finally {
      fault = () => undefined;
    }
  });

  test('SIGTERM and SIGINT during a wait: exit 130, and the re-run continues', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const running = startPlugin([
        'tls',
        'enable',
        'term',
        '-n',
        ns,
        '--issuer',
        'broken-issuer',
        '--force',
        '--method',
        'patch',
        '--wait',
        '--progress',
        'plain',
      ]);
      await running.waitFor('Certificates Ready');
      const code = await running.stop(signal);
      const stderr = running.stderr();
      assert.equal(code, ExitCode.interrupted, stderr);
      assert.match(
        stderr,
        /interrupted while waiting for Certificates Ready .*re-run the same command to continue/,
      );
    }
  });
});
