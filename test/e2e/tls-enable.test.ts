/** `tls enable` end to end: the compiled binary, the real cert-manager, the KubeDB stand-in. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { OpsRequest, Singlestore } from '../../src/kubedb/types.ts';
import { startApiProxy } from '../support/api-proxy.ts';
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
} from './harness.ts';

const ns = 'enable-e2e';
const client = adminClient();

function plainDatabase(name: string, namespace = ns): string {
  return singlestoreYaml(name, namespace);
}

const enable = (args: string[]) => runPlugin(['tls', 'enable', '-n', ns, ...args]);
const opsRequests = async (db: string) =>
  (await client.list<OpsRequest>(Resources.opsRequest, { namespace: ns })).items.filter(
    (r) => r.spec.databaseRef.name === db,
  );
const tlsOf = async (db: string) => (await client.get<Singlestore>(Resources.singlestore, ns, db)).spec?.tls;

describe('tls enable', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(
      [
        ...['via-ops', 'via-patch', 'dry', 'conflict', 'fails', 'slow', 'cluster-issued'].map((name) =>
          plainDatabase(name),
        ),
        plainDatabase('enable-limited', 'demo'),
        `apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: broken-issuer, namespace: ${ns}}\nspec: {ca: {secretName: no-such-ca}}`,
        'apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: selfsigned-cluster}\nspec: {selfSigned: {}}',
      ].join('\n---\n'),
    );
    await eventually('databases provisioned', async () => {
      const list = await client.list<Singlestore>(Resources.singlestore, { namespace: ns });
      return list.items.length === 7 && list.items.every((db) => db.status?.phase === 'Ready');
    });
  });

  test('through an ops request, with --wait: healthy at the end', async () => {
    const result = await enable(['via-ops', '--issuer', 'sdb-issuer', '--wait', '--timeout', '2m']);
    assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^created SinglestoreOpsRequest enable-e2e\/via-ops-enable-tls-\w+ to enable TLS with Issuer "sdb-issuer": the database is running/m,
    );
    // Done means every pod serves the new certificate, proven on the wire.
    assert.match(result.stdout, /^tls status enable-e2e\/via-ops: OK \(on the wire: 2\/2 current\)$/m);
    for (const step of [
      'SinglestoreOpsRequest',
      'Certificates Ready',
      'TLS Secrets populated',
      'PetSets rolled out',
    ]) {
      assert.match(result.stderr, new RegExp(`${step}.*: done`), step);
    }
    const [request] = await opsRequests('via-ops');
    assert.equal(request?.spec.type, 'ReconfigureTLS');
    assert.equal(request?.metadata.labels?.['app.kubernetes.io/managed-by'], 'kubectl-singlestore');
    const status = await runPlugin(['tls', 'status', 'via-ops', '-n', ns]);
    assert.equal(status.code, ExitCode.ok, status.stdout);

    const again = await enable(['via-ops', '--issuer', 'sdb-issuer']);
    assert.equal(again.code, ExitCode.ok);
    assert.equal(
      again.stdout,
      'TLS is already enabled on Singlestore enable-e2e/via-ops with Issuer "sdb-issuer": nothing to do\n',
    );
    assert.equal((await opsRequests('via-ops')).length, 1, 'no second ops request');
  });

  test('through a patch of spec.tls, then --overwrite refusal and success', async () => {
    const result = await enable([
      'via-patch',
      '--issuer',
      'sdb-issuer',
      '--method',
      'patch',
      '--dns-name',
      'db.example.com',
      '--wait',
    ]);
    assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^patched spec.tls of Singlestore enable-e2e\/via-patch to enable TLS with Issuer "sdb-issuer": as asked \(--method patch\)$/m,
    );
    assert.deepEqual(await opsRequests('via-patch'), []);
    assert.deepEqual((await tlsOf('via-patch'))?.certificates, [
      { alias: 'server', dnsNames: ['db.example.com'] },
    ]);

    const refused = await enable([
      'via-patch',
      '--issuer',
      'selfsigned-cluster',
      '--cluster-issuer',
      '--method',
      'patch',
    ]);
    assert.equal(refused.code, ExitCode.runtime);
    assert.match(
      refused.stderr,
      /^error: TLS is already enabled on Singlestore enable-e2e\/via-patch with other settings; pass --overwrite to reconfigure:\n/,
    );
    assert.match(refused.stderr, /^- {5}kind: Issuer$/m);
    assert.match(refused.stderr, /^\+ {5}kind: ClusterIssuer$/m);
    assert.equal((await tlsOf('via-patch'))?.issuerRef?.name, 'sdb-issuer', 'nothing written');

    const overwritten = await enable([
      'via-patch',
      '--issuer',
      'selfsigned-cluster',
      '--cluster-issuer',
      '--method',
      'patch',
      '--overwrite',
      '--wait',
    ]);
    assert.equal(overwritten.code, ExitCode.ok, overwritten.stdout + overwritten.stderr);
    assert.match(overwritten.stdout, /^reconfiguring TLS:/);
    const tls = await tlsOf('via-patch');
    assert.deepEqual(tls?.issuerRef, {
      apiGroup: 'cert-manager.io',
      kind: 'ClusterIssuer',
      name: 'selfsigned-cluster',
    });
    assert.equal(tls?.certificates, undefined, 'old certificate settings replaced');
  });

  test('--dry-run=client and --dry-run=server write nothing', async () => {
    const client_ = await enable(['dry', '--issuer', 'sdb-issuer', '--dry-run=client', '-o', 'yaml']);
    assert.equal(client_.code, ExitCode.ok, client_.stderr);
    assert.match(client_.stdout, /^kind: SinglestoreOpsRequest$/m);
    assert.match(client_.stdout, /^ {2}generateName: dry-enable-tls-$/m);
    const server = await enable(['dry', '--issuer', 'sdb-issuer', '--dry-run=server']);
    assert.equal(server.code, ExitCode.ok, server.stderr);
    assert.match(server.stdout, /\(dry run\)/);
    const patchDry = await enable([
      'dry',
      '--issuer',
      'sdb-issuer',
      '--method',
      'patch',
      '--dry-run=server',
      '-o',
      'json',
    ]);
    assert.equal(
      JSON.parse(patchDry.stdout).spec.tls.issuerRef.name,
      'sdb-issuer',
      'the server answered with the would-be object',
    );
    assert.deepEqual(await opsRequests('dry'), []);
    assert.equal(await tlsOf('dry'), undefined);
  });

  test('issuer missing or not Ready: refused before any write; --force goes on; a ClusterIssuer works', async () => {
    const missing = await enable(['dry', '--issuer', 'ghost']);
    assert.equal(missing.code, ExitCode.runtime);
    assert.equal(
      missing.stderr,
      `error: Issuer "ghost" in namespace "${ns}" does not exist: create it first (or pass --cluster-issuer for a ClusterIssuer)\n`,
    );
    const notReady = await enable(['dry', '--issuer', 'broken-issuer']);
    assert.equal(notReady.code, ExitCode.runtime);
    assert.match(
      notReady.stderr,
      /^error: Issuer "broken-issuer" in namespace "enable-e2e" is not Ready: .*secret "no-such-ca" not found; fix it first, or pass --force\n$/,
    );
    assert.deepEqual(await opsRequests('dry'), []);

    const cluster = await enable([
      'cluster-issued',
      '--issuer',
      'selfsigned-cluster',
      '--cluster-issuer',
      '--wait',
    ]);
    assert.equal(cluster.code, ExitCode.ok, cluster.stdout + cluster.stderr);
    assert.equal((await tlsOf('cluster-issued'))?.issuerRef?.kind, 'ClusterIssuer');
  });

  test('--wait ends at once when the ops request fails, with its reason', async () => {
    const result = await enable([
      'fails',
      '--issuer',
      'broken-issuer',
      '--force',
      '--wait',
      '--timeout',
      '2m',
    ]);
    assert.equal(result.code, ExitCode.runtime);
    assert.match(result.stderr, /^WARNING: Issuer "broken-issuer" .* is not Ready/);
    assert.match(
      result.stderr,
      /error: SinglestoreOpsRequest fails-enable-tls-\w+: the ops request is Failed: Issuer "broken-issuer" is not ready/,
    );
    assert.ok(result.ms < 30_000);
  });

  test('--wait --timeout: the timeout exit code and the step it was stuck on', async () => {
    const result = await enable([
      'slow',
      '--issuer',
      'broken-issuer',
      '--force',
      '--method',
      'patch',
      '--wait',
      '--timeout',
      '3s',
    ]);
    assert.equal(result.code, ExitCode.timeout, result.stderr);
    assert.match(result.stderr, /error: timed out after 3s waiting for Certificates Ready: 0\/2 ready; /);
    assert.ok(result.ms < 10_000, `${result.ms} ms`);
  });

  test('a concurrent change between read and patch: retried on a fresh read, no lost update', async () => {
    let injected = false;
    const proxy = await startApiProxy(clusterDir, clusterEnv().SERVER as string, async (request) => {
      if (!injected && request.method === 'PATCH' && request.url.includes('/singlestores/conflict')) {
        injected = true;
        await client.patch(
          Resources.singlestore,
          { namespace: ns, name: 'conflict' },
          {
            metadata: { labels: { 'other-writer': 'was-here' } },
          },
        );
      }
      return undefined;
    });
    try {
      const result = await runPlugin([
        'tls',
        'enable',
        'conflict',
        '-n',
        ns,
        '--issuer',
        'sdb-issuer',
        '--method',
        'patch',
        '--server',
        proxy.url,
      ]);
      assert.equal(result.code, ExitCode.ok, result.stderr);
      assert.match(result.stderr, /changed while patching \(conflict\); retrying on a fresh read/);
    } finally {
      proxy.close();
    }
    const db = await client.get<Singlestore>(Resources.singlestore, ns, 'conflict');
    assert.equal(db.metadata.labels?.['other-writer'], 'was-here', "the other writer's change survived");
    assert.equal(db.spec?.tls?.issuerRef?.name, 'sdb-issuer', 'ours landed');
  });

  test('the limited user: a clear forbidden message naming the verb and resource', async () => {
    const result = await runPlugin([
      'tls',
      'enable',
      'enable-limited',
      '-n',
      'demo',
      '--issuer',
      'sdb-issuer',
      '--context',
      'limited',
    ]);
    assert.equal(result.code, ExitCode.runtime);
    assert.equal(
      result.stderr,
      'error: cannot get issuers.cert-manager.io "sdb-issuer" in namespace "demo": forbidden for user "alice"\n',
    );
  });

  test('invalid flag values: a usage error naming the flag, nothing sent', async () => {
    const cases: [string[], RegExp][] = [
      [['via-ops'], /--issuer is required/],
      [['via-ops', '--issuer', 'Bad Issuer'], /invalid --issuer "Bad Issuer"/],
      [
        ['via-ops', '--issuer', 'x', '--dns-name', 'not_valid!'],
        /--dns-name: "not_valid!" is not a valid DNS name/,
      ],
      [
        ['via-ops', '--issuer', 'x', '--ip-address', '300.1.1.1'],
        /--ip-address: "300.1.1.1" is not an IP address/,
      ],
      [['via-ops', '--issuer', 'x', '--duration', '90d'], /--duration: invalid duration "90d"/],
      [['via-ops', '--issuer', 'x', '--duration', '10m'], /--duration: 10m is too short/],
      [
        ['via-ops', '--issuer', 'x', '--method', 'magic'],
        /invalid argument "[^"]*" for "--method" flag: must be one of /,
      ],
      [
        ['via-ops', '--issuer', 'x', '--dry-run', 'maybe'],
        /invalid argument "[^"]*" for "--dry-run" flag: must be one of /,
      ],
      [
        ['via-ops', '--issuer', 'x', '--private-key-encoding', 'DER'],
        /invalid argument "[^"]*" for "--private-key-encoding" flag: must be one of /,
      ],
      [['via-ops', '--issuer', 'x', '--timeout', 'forever'], /--timeout: invalid duration "forever"/],
      [['UPPER', '--issuer', 'x'], /invalid Singlestore name "UPPER"/],
      [[], /missing argument <name>/],
    ];
    for (const [args, message] of cases) {
      const result = await runPlugin(['tls', 'enable', '-n', ns, ...args, '-v', '6']);
      assert.equal(result.code, ExitCode.usage, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.doesNotMatch(result.stderr, /^(GET|POST|PATCH) /m, 'no request was sent');
    }
  });
});
