/** `tls rotate` end to end: the compiled binary, the real cert-manager, the KubeDB stand-in. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Certificate, OpsRequest, Secret } from '../../src/kubedb/types.ts';
import { createProgress } from '../../src/output/progress.ts';
import { decodeTls, secretsStep, waitFor } from '../../src/tls/wait.ts';
import { inspectTlsData } from '../../src/tls/x509.ts';
import { holdOpsRequestAnnotation } from '../standin/holds.ts';
import {
  adminClient,
  eventually,
  kubectlApply,
  namespaceWithIssuer,
  podUids,
  runPlugin,
  singlestoreYaml,
  skipReason,
  startPlugin,
} from './harness.ts';

const ns = 'rotate-e2e';
const client = adminClient();
const names = [
  'cm',
  'ops',
  'restart-only',
  'no-restart',
  'dry',
  'bulk-a',
  'bulk-b',
  'broken',
  'backoff',
  'killed',
  'timeout',
  'ops-rerun',
];

function database(name: string, issuer = 'sdb-issuer'): string {
  const group = name.startsWith('bulk') || name === 'broken' ? 'bulk' : 'single';
  return singlestoreYaml(name, ns, { issuer, labels: { group } });
}

async function serials(name: string): Promise<string[]> {
  const secrets = await Promise.all(
    ['server', 'client'].map((alias) => client.get<Secret>(Resources.secret, ns, `${name}-${alias}-cert`)),
  );
  return secrets.map((secret) => inspectTlsData(decodeTls(secret)).certificate?.serialNumber ?? '');
}
const revision = async (name: string) =>
  (await client.get<Certificate>(Resources.certificate, ns, `${name}-server-cert`)).status?.revision ?? 0;
const rotate = (args: string[]) => runPlugin(['tls', 'rotate', '-n', ns, ...args], { timeoutMs: 120_000 });

describe('tls rotate', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(
      [
        `apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: second-issuer, namespace: ${ns}}\nspec: {selfSigned: {}}`,
        ...names.map((name) => database(name, name === 'broken' ? 'second-issuer' : 'sdb-issuer')),
      ].join('\n---\n'),
    );
    await eventually(
      'all databases issued and running',
      async () => {
        for (const name of names) {
          const certificate = await client.find<Certificate>(
            Resources.certificate,
            ns,
            `${name}-client-cert`,
          );
          if ((certificate?.status?.revision ?? 0) < 1 || (await podUids(ns, name)).length < 2) return false;
        }
        return true;
      },
      120_000,
    );
  });

  test('via cert-manager: new serials, every pod replaced, healthy after', async () => {
    const [oldSerials, oldPods] = [await serials('cm'), await podUids(ns, 'cm')];
    const result = await rotate(['cm', '--method', 'cert-manager', '-o', 'json']);
    assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    const schema = JSON.parse(
      readFileSync(new URL('../../src/tls/converge/rotate-result.schema.json', import.meta.url), 'utf8'),
    );
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    assert.ok(validate(JSON.parse(result.stdout)), JSON.stringify(validate.errors));
    const [entry] = JSON.parse(result.stdout).results;
    assert.equal(entry.result, 'rotated');
    assert.equal(entry.method, 'cert-manager');
    assert.deepEqual(
      entry.certificates.map((c: { oldSerial: string }) => c.oldSerial),
      oldSerials,
    );
    const newSerials = await serials('cm');
    assert.deepEqual(
      entry.certificates.map((c: { newSerial: string }) => c.newSerial),
      newSerials,
    );
    assert.ok(newSerials.every((serial, i) => serial !== oldSerials[i]));
    const newPods = await podUids(ns, 'cm');
    assert.ok(
      newPods.every((uid) => !oldPods.includes(uid)),
      'every pod replaced',
    );
    const certificate = await client.get<Certificate>(Resources.certificate, ns, 'cm-server-cert');
    assert.equal(
      certificate.metadata.annotations?.['kubectl-singlestore.kubedb.com/rotate-from-revision'],
      undefined,
      'markers cleared',
    );
    assert.equal((await runPlugin(['tls', 'status', 'cm', '-n', ns])).code, ExitCode.ok);
  });

  test('via an ops request (auto where KubeDB runs)', async () => {
    const oldSerials = await serials('ops');
    const result = await rotate(['ops']);
    assert.equal(result.code, ExitCode.ok, result.stderr);
    assert.match(
      result.stdout,
      /created SinglestoreOpsRequest rotate-e2e\/ops-rotate-tls-\w+ \(ReconfigureTLS, rotateCertificates\)/,
    );
    assert.match(result.stdout, /^Singlestore rotate-e2e\/ops: rotated \(ops-request\); new certificates: /m);
    assert.ok((await serials('ops')).every((serial, i) => serial !== oldSerials[i]));
  });

  test('by ops request, interrupted and re-run at once, then re-run after it finished: one rotation', async () => {
    const start = await revision('ops-rerun');
    const interrupted = startPlugin(['tls', 'rotate', 'ops-rerun', '-n', ns, '--progress', 'plain']);
    await interrupted.waitFor('SinglestoreOpsRequest ops-rerun-rotate-tls-');
    assert.equal(await interrupted.stop('SIGINT'), ExitCode.interrupted, interrupted.stderr());
    // The re-run follows the same request and waits for serials other than those it started from
    // (recorded on the request), not for ones other than those it reads now.
    const rerun = await rotate(['ops-rerun', '--timeout', '2m']);
    assert.equal(rerun.code, ExitCode.ok, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /continuing with SinglestoreOpsRequest|That rotation finished at/);
    const again = await rotate(['ops-rerun']);
    assert.equal(again.code, ExitCode.ok, again.stdout + again.stderr);
    assert.match(
      again.stdout,
      /^That rotation finished at \S+ \(ops request ops-rerun-rotate-tls-\w+\): nothing to do \(--force rotates again\)$/m,
    );
    const requests = (await client.list<OpsRequest>(Resources.opsRequest, { namespace: ns })).items.filter(
      (request) => request.spec.databaseRef.name === 'ops-rerun',
    );
    assert.equal(requests.length, 1, 'one ops request');
    assert.equal(await revision('ops-rerun'), start + 1, 'exactly one new issuance');
  });

  test('--restart-only rolls the pods and keeps the certificates; --no-restart the reverse', async () => {
    const [oldSerials, oldPods] = [await serials('restart-only'), await podUids(ns, 'restart-only')];
    const restarted = await rotate(['restart-only', '--restart-only', '--restart-with', 'annotation']);
    assert.equal(restarted.code, ExitCode.ok, restarted.stderr);
    assert.match(
      restarted.stdout,
      /restarted PetSet rotate-e2e\/restart-only-leaf \(kubectl.kubernetes.io\/restartedAt=/,
    );
    assert.deepEqual(await serials('restart-only'), oldSerials);
    assert.ok((await podUids(ns, 'restart-only')).every((uid) => !oldPods.includes(uid)));

    const [keptSerials, keptPods] = [await serials('no-restart'), await podUids(ns, 'no-restart')];
    const reissued = await rotate(['no-restart', '--no-restart']);
    assert.equal(reissued.code, ExitCode.ok, reissued.stderr);
    assert.match(reissued.stdout, /pods not restarted \(--no-restart\)/);
    assert.ok((await serials('no-restart')).every((serial, i) => serial !== keptSerials[i]));
    assert.deepEqual(await podUids(ns, 'no-restart'), keptPods);
    const status = await runPlugin(['tls', 'status', 'no-restart', '-n', ns]);
    assert.equal(status.code, ExitCode.findings);
    assert.match(status.stdout, /--restart-only/);
  });

  test('--dry-run client and server change nothing', async () => {
    const [oldSerials, oldPods, oldRevision] = [
      await serials('dry'),
      await podUids(ns, 'dry'),
      await revision('dry'),
    ];
    for (const args of [
      ['--dry-run=client'],
      ['--dry-run=server'],
      ['--dry-run=server', '--method', 'cert-manager'],
      ['--dry-run=client', '--restart-only', '--restart-with', 'annotation'],
    ]) {
      const result = await rotate(['dry', ...args]);
      assert.equal(result.code, ExitCode.ok, `${args}: ${result.stderr}`);
      assert.match(result.stdout, /\(dry run\)/);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(await serials('dry'), oldSerials);
    assert.deepEqual(await podUids(ns, 'dry'), oldPods);
    assert.equal(await revision('dry'), oldRevision);
    const requests = await client.list<OpsRequest>(Resources.opsRequest, { namespace: ns });
    assert.ok(!requests.items.some((request) => request.spec.databaseRef.name === 'dry'));
  });

  test('--all -l: one broken database does not stop the others; the summary names it; exit non-zero', async () => {
    await client.delete(Resources.issuer, ns, 'second-issuer');
    const before = { a: await serials('bulk-a'), b: await serials('bulk-b') };
    const result = await rotate(['--all', '-l', 'group=bulk', '--wait', '--concurrency', '2']);
    assert.equal(result.code, ExitCode.runtime, result.stdout + result.stderr);
    const lines = result.stdout.split('\n');
    const row = (name: string) => lines.find((line) => line.startsWith(`${ns}   ${name} `)) ?? '';
    assert.match(
      lines.find((line) => line.startsWith('NAMESPACE')) ?? '',
      /^NAMESPACE +NAME +RESULT +METHOD +NEW-SERIALS +RESTARTED +ELAPSED +DETAIL$/,
    );
    assert.match(row('bulk-a'), / rotated /);
    assert.match(row('bulk-b'), / rotated /);
    assert.match(row('broken'), / failed .*Issuer "second-issuer" in namespace "rotate-e2e" does not exist/);
    assert.ok((await serials('bulk-a')).every((serial, i) => serial !== before.a[i]));
    assert.ok((await serials('bulk-b')).every((serial, i) => serial !== before.b[i]));
  });

  test('cert-manager backing off after a failure is explained up front, with the next attempt', async () => {
    const certificate = await client.get<Certificate>(Resources.certificate, ns, 'backoff-server-cert');
    const failedAt = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await client.patch(
      Resources.certificate,
      { namespace: ns, name: 'backoff-server-cert' },
      {
        status: {
          lastFailureTime: failedAt,
          conditions: [
            ...(certificate.status?.conditions ?? []).filter((c) => c.type !== 'Issuing'),
            {
              type: 'Issuing',
              status: 'False',
              reason: 'Failed',
              message: 'The certificate request has failed to complete',
            },
          ],
        },
      },
      { subresource: 'status' },
    );
    const result = await rotate(['backoff', '--method', 'cert-manager']);
    assert.equal(result.code, ExitCode.runtime);
    const next = new Date(Date.parse(failedAt) + 3_600_000).toISOString();
    assert.match(
      result.stderr,
      new RegExp(
        `backing off after a failed issuance of Certificate backoff-server-cert .* will not issue again before ${next.replace(/\./g, '\\.')}`,
      ),
    );
    // At once, not after waiting the back-off out (or the default --timeout of 10m).
    assert.ok(result.ms < 30_000, `${result.ms} ms`);
  });

  test('--timeout: the timeout exit code and the step it was stuck on', async () => {
    const start = await revision('timeout');
    const result = await rotate(['timeout', '--method', 'cert-manager', '--timeout', '1ms']);
    assert.equal(result.code, ExitCode.timeout, result.stderr);
    assert.match(result.stderr, /error: timed out after 1ms waiting for Certificates Ready/);
    // The re-run picks up the renewal the timed-out run requested, and issues nothing more.
    const resumed = await rotate(['timeout', '--method', 'cert-manager', '--progress', 'plain']);
    assert.equal(resumed.code, ExitCode.ok, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, /re-issue already requested by an earlier run/);
    assert.equal(await revision('timeout'), start + 1);
  });

  test('killed mid-wait, then re-run: finishes without issuing a third certificate', async () => {
    const start = await revision('killed');
    const killed = startPlugin([
      'tls',
      'rotate',
      'killed',
      '-n',
      ns,
      '--method',
      'cert-manager',
      '--progress',
      'plain',
    ]);
    await killed.waitFor('Certificates Ready');
    await killed.stop('SIGKILL');
    const rerun = await rotate(['killed', '--method', 'cert-manager']);
    assert.equal(rerun.code, ExitCode.ok, rerun.stdout + rerun.stderr);
    assert.equal(await revision('killed'), start + 1, 'exactly one new issuance');

    // The re-run restarted the pods with an ops request made after the certificates: a restart-only
    // run would rightly find that restart and only check the rollout (done in milliseconds, before
    // any signal). Without that request it has a restart to make, which the stand-in holds Pending, so
    // the interrupt lands while the command waits on it.
    const requests = await client.list<OpsRequest>(Resources.opsRequest, { namespace: ns });
    for (const request of requests.items.filter((r) => r.spec.databaseRef.name === 'killed')) {
      await client.delete(Resources.opsRequest, ns, request.metadata.name);
    }
    const hold = (value: string | null) =>
      client.patch(
        Resources.singlestore,
        { namespace: ns, name: 'killed' },
        { metadata: { annotations: { [holdOpsRequestAnnotation]: value } } },
      );
    await hold('Pending');
    try {
      const interrupted = startPlugin([
        'tls',
        'rotate',
        'killed',
        '-n',
        ns,
        '--restart-only',
        '--restart-with',
        'ops-request',
        '--progress',
        'plain',
      ]);
      await interrupted.waitFor('SinglestoreOpsRequest');
      const code = await interrupted.stop('SIGINT');
      assert.equal(code, ExitCode.interrupted, interrupted.stderr());
    } finally {
      await hold(null);
    }
  });

  test('the wait notices a Secret change within a second', async () => {
    const secret = await client.get<Secret>(Resources.secret, ns, 'cm-server-cert');
    const oldSerial = inspectTlsData(decodeTls(secret)).certificate?.serialNumber as string;
    const context = {
      client,
      progress: createProgress('plain', () => {}),
      interrupt: new AbortController().signal,
      deadline: performance.now() + 30_000,
      timeoutText: '30s',
    };
    const waiting = waitFor(
      context,
      secretsStep(ns, ['cm-server-cert'], new Map([['cm-server-cert', oldSerial]])),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const other = await client.get<Secret>(Resources.secret, ns, 'ops-server-cert');
    const written = performance.now();
    await client.patch(Resources.secret, { namespace: ns, name: 'cm-server-cert' }, { data: other.data });
    await waiting;
    const latency = performance.now() - written;
    assert.ok(latency < 1000, `noticed after ${latency.toFixed(0)} ms`);
    process.stderr.write(`# Secret change noticed after ${latency.toFixed(1)} ms\n`);
  });
});
