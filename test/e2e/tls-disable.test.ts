/**
 * `tls disable` end to end: the compiled binary, the real cert-manager, the KubeDB stand-in. Dry
 * runs write nothing; the ops request (ReconfigureTLS remove) and the patch both end, with --wait,
 * in pods that serve without TLS on the wire; a re-run is "nothing to do"; an interrupted run is
 * continued by the next one without a second request; each change leaves an audit Event that
 * `kubectl describe` shows.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { OpsRequest, Singlestore } from '../../src/kubedb/types.ts';
import {
  adminClient,
  eventually,
  kubectl,
  kubectlApply,
  namespaceWithIssuer,
  podUids,
  runPlugin,
  singlestoreYaml,
  skipReason,
  startPlugin,
} from './harness.ts';

const ns = 'disable-e2e';
const client = adminClient();
const names = ['by-ops', 'by-patch', 'dry', 'interrupted'];

const disable = (args: string[]) =>
  runPlugin(['tls', 'disable', '-n', ns, ...args, '--progress', 'plain'], { timeoutMs: 240_000 });
const opsRequests = async (db: string) =>
  (await client.list<OpsRequest>(Resources.opsRequest, { namespace: ns })).items.filter(
    (r) => r.spec.databaseRef.name === db,
  );
const tlsOf = async (db: string) => (await client.get<Singlestore>(Resources.singlestore, ns, db)).spec?.tls;

describe('tls disable', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(names.map((name) => singlestoreYaml(name, ns, { issuer: 'sdb-issuer' })).join('\n---\n'));
    await eventually(
      'databases provisioned with TLS, pods running',
      async () => {
        for (const name of names) {
          const db = await client.find<Singlestore>(Resources.singlestore, ns, name);
          if (db?.status?.phase !== 'Ready' || (await podUids(ns, name)).length < 2) return false;
        }
        const status = await runPlugin(['tls', 'status', '-n', ns, '--probe=false']);
        return status.code === ExitCode.ok;
      },
      180_000,
    );
  });

  test('--dry-run=client and --dry-run=server write nothing', async () => {
    const pods = await podUids(ns, 'dry');
    const printed = await disable(['dry', '--dry-run=client']);
    assert.equal(printed.code, ExitCode.ok, printed.stderr);
    assert.match(
      printed.stdout,
      /^would create a SinglestoreOpsRequest \(ReconfigureTLS, remove\) for disable-e2e\/dry \(dry run\) to turn TLS off/m,
    );
    assert.match(printed.stdout, /^ {4}remove: true$/m);
    assert.doesNotMatch(printed.stdout, /will now fail/, 'nothing was turned off');
    const server = await disable(['dry', '--dry-run=server', '-o', 'json']);
    assert.equal(server.code, ExitCode.ok, server.stderr);
    assert.equal(JSON.parse(server.stdout).spec.tls.remove, true);
    const patch = await disable(['dry', '--dry-run=server', '--method', 'patch']);
    assert.equal(patch.code, ExitCode.ok, patch.stderr);
    assert.match(patch.stdout, /removed spec.tls of Singlestore disable-e2e\/dry \(dry run\)/);
    assert.deepEqual(await opsRequests('dry'), []);
    assert.equal((await tlsOf('dry'))?.issuerRef?.name, 'sdb-issuer');
    assert.deepEqual(await podUids(ns, 'dry'), pods);
  });

  test('through an ops request, with --wait: pods restarted and serving without TLS; a re-run has nothing to do', async () => {
    const before = await podUids(ns, 'by-ops');
    const result = await disable(['by-ops', '--wait', '--timeout', '3m']);
    assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^created SinglestoreOpsRequest disable-e2e\/by-ops-disable-tls-\w+ \(ReconfigureTLS, remove\) to turn TLS off: the database is running/m,
    );
    assert.match(result.stdout, /clients that require TLS .* will now fail to connect/);
    assert.match(result.stdout, /^tls status disable-e2e\/by-ops: TLS off \(on the wire: 2\/2 no-tls\)$/m);
    assert.equal(await tlsOf('by-ops'), undefined);
    const [request] = await opsRequests('by-ops');
    assert.deepEqual(request?.spec.tls, { remove: true });
    assert.equal(request?.status?.phase, 'Successful');
    assert.ok(
      (await podUids(ns, 'by-ops')).every((uid) => !before.includes(uid)),
      'every pod restarted',
    );

    const again = await disable(['by-ops']);
    assert.equal(again.code, ExitCode.ok, again.stderr);
    assert.match(
      again.stdout,
      /^TLS was turned off on Singlestore disable-e2e\/by-ops at .* \(ops request by-ops-disable-tls-\w+\): nothing to do$/m,
    );
    assert.equal((await opsRequests('by-ops')).length, 1, 'no second ops request');

    // The audit trail: kubectl describe shows who turned TLS off.
    const described = kubectl(['--context', 'admin', 'describe', 'singlestore', 'by-ops', '-n', ns]);
    assert.match(
      described,
      /TLSDisabled .*kubectl-singlestore.* TLS turned off \(was Issuer "sdb-issuer"\) by \S+ \(SinglestoreOpsRequest by-ops-disable-tls-\w+\)/,
    );
  });

  test('through a patch of spec.tls: the pods roll without the TLS volume', async () => {
    const result = await disable(['by-patch', '--method', 'patch', '--wait', '--timeout', '3m']);
    assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^removed spec.tls of Singlestore disable-e2e\/by-patch to turn TLS off: as asked \(--method patch\)$/m,
    );
    assert.match(result.stdout, /TLS off \(on the wire: 2\/2 no-tls\)/);
    assert.equal(await tlsOf('by-patch'), undefined);
    assert.deepEqual(await opsRequests('by-patch'), []);
    const again = await disable(['by-patch', '--method', 'patch']);
    assert.equal(again.stdout, 'TLS is not enabled on Singlestore disable-e2e/by-patch: nothing to do\n');
  });

  test('interrupted mid-wait, then re-run: continues with the same ops request to a verified end', async () => {
    const running = startPlugin(['tls', 'disable', 'interrupted', '-n', ns, '--wait', '--progress', 'plain']);
    await running.waitFor('SinglestoreOpsRequest interrupted-disable-tls-');
    assert.equal(await running.stop('SIGINT'), ExitCode.interrupted, running.stderr());
    const rerun = await disable(['interrupted', '--wait', '--timeout', '3m']);
    assert.equal(rerun.code, ExitCode.ok, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /(from an earlier run is \w+: continuing with it|nothing to do)/);
    assert.match(rerun.stdout, /TLS off \(on the wire: 2\/2 no-tls\)/);
    assert.equal((await opsRequests('interrupted')).length, 1, 'one ops request');
  });

  test('bad input: a usage error before any request', async () => {
    const bad = await runPlugin(['tls', 'disable', '-n', ns, 'by-ops', '--method', 'magic', '-v', '6']);
    assert.equal(bad.code, ExitCode.usage);
    assert.doesNotMatch(bad.stderr, /^(GET|POST|PATCH) /m);
    const missing = await disable(['no-such-db']);
    assert.equal(missing.code, ExitCode.runtime);
    assert.equal(
      missing.stderr,
      `error: singlestores.kubedb.com "no-such-db" not found in namespace "${ns}"\n`,
    );
  });
});
