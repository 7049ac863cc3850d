/**
 * The wire probe end to end: the compiled binary against pods that really serve TLS (each pod of the
 * test bed runs a real MariaDB server with the certificate its Secret held when the pod started).
 * Every verdict about what a pod serves is cross-checked with `openssl s_client -starttls mysql`
 * through `kubectl port-forward`, and the client side with Debian's `mariadb` client.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Pod, Secret } from '../../src/kubedb/types.ts';
import type { StatusReport } from '../../src/tls/report.ts';
import {
  adminClient,
  binary,
  clusterEnv,
  eventually,
  kubeconfig,
  kubectlApply,
  mariadbLogin,
  namespaceWithIssuer,
  portForward,
  repoRoot,
  runPlugin,
  secretSerial,
  secretTlsFiles,
  servedCertificate,
  singlestoreYaml,
  skipReason,
  withPortForward,
} from './harness.ts';

const ns = 'wire-e2e';
const client = adminClient();
const wireAnnotation = 'standin.kubectl-singlestore.test/wire';
const serveSecretAnnotation = 'standin.kubectl-singlestore.test/serve-secret';
const x509UsersAnnotation = 'standin.kubectl-singlestore.test/x509-users';

const plugin = (args: string[], timeoutMs = 180_000) =>
  runPlugin([...args, '-n', ns, '--context', 'admin'], { timeoutMs });

async function report(name: string, extra: string[] = []): Promise<{ code: number; report: StatusReport }> {
  const result = await plugin(['tls', 'status', name, '-o', 'json', ...extra]);
  assert.ok(result.code === 0 || result.code === 1, result.stderr);
  return { code: result.code, report: JSON.parse(result.stdout) as StatusReport };
}

/** pod name -> what the plugin says it serves. */
async function servedByPod(name: string): Promise<Map<string, { served: string; serial?: string }>> {
  const { report: status } = await report(name);
  const pods = status.databases[0]?.petSets.flatMap((petSet) => petSet.pods ?? []) ?? [];
  return new Map(
    pods.map((pod) => [
      pod.name,
      { served: pod.served, ...(pod.probe?.served ? { serial: pod.probe.served.serialNumber } : {}) },
    ]),
  );
}

const serverSerial = (name: string) => secretSerial(ns, `${name}-server-cert`);

async function podsOf(name: string): Promise<Pod[]> {
  const list = await client.list<Pod>(Resources.pod, {
    namespace: ns,
    labelSelector: `app.kubernetes.io/instance=${name}`,
  });
  return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

async function podUids(name: string): Promise<Record<string, string>> {
  return Object.fromEntries(
    (await podsOf(name)).map((pod) => [pod.metadata.name, pod.metadata.uid as string]),
  );
}

/** openssl through kubectl port-forward: the serial the pod serves, independently of the plugin. */
function opensslSerial(pod: string): Promise<string> {
  return withPortForward(ns, pod, async (port) => (await servedCertificate(port)).serial);
}

/** A database with TLS whose every pod serves the current certificate (3 pods). */
async function healthy(name: string): Promise<void> {
  await eventually(
    `${name} healthy on the wire`,
    async () => {
      const result = await plugin(['tls', 'status', name, '-o', 'json']);
      if (result.code !== 0) return undefined;
      const served = (JSON.parse(result.stdout) as StatusReport).databases[0]?.served;
      return served?.current === 3 && served.pods === 3;
    },
    180_000,
  );
}

async function annotatePod(pod: string, key: string, value: string | null): Promise<void> {
  await client.patch(
    Resources.pod,
    { namespace: ns, name: pod },
    { metadata: { annotations: { [key]: value } } },
  );
}

describe('the wire probe', { skip: skipReason }, () => {
  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(
      [
        singlestoreYaml('rotated', ns, { issuer: 'sdb-issuer', leaves: 2 }),
        singlestoreYaml('pinned', ns, { issuer: 'sdb-issuer', leaves: 2 }),
        singlestoreYaml('faults', ns, { issuer: 'sdb-issuer', leaves: 2 }),
        singlestoreYaml('clients', ns, {
          issuer: 'sdb-issuer',
          leaves: 2,
          annotations: { [x509UsersAnnotation]: JSON.stringify([{ user: 'app', require: 'X509' }]) },
        }),
      ].join('\n---\n'),
    );
    await Promise.all(['rotated', 'pinned', 'faults', 'clients'].map(healthy));
  });

  test('a healthy database: every pod CURRENT, the serial openssl sees, the facts in JSON', async () => {
    const serial = await serverSerial('rotated');
    const served = await servedByPod('rotated');
    assert.deepEqual([...served.keys()], ['rotated-aggregator-0', 'rotated-leaf-0', 'rotated-leaf-1']);
    for (const [pod, entry] of served) {
      assert.deepEqual(entry, { served: 'current', serial }, pod);
    }
    assert.equal(await opensslSerial('rotated-leaf-1'), serial);
    const { report: status } = await report('rotated');
    const probe = status.databases[0]?.petSets[0]?.pods?.[0]?.probe;
    assert.equal(probe?.result, 'tls');
    assert.match(probe?.protocol ?? '', /^TLSv1\.[23]$/);
    assert.equal(probe?.served?.signedBySecretCa, 'signed');
    assert.equal(probe?.legacyTls, 'refused');
    assert.equal(
      probe?.clientCertificate?.requested,
      true,
      'MariaDB with ssl-ca asks for a client certificate',
    );
    const text = await plugin(['tls', 'status', 'rotated']);
    assert.equal(text.code, ExitCode.ok, text.stdout);
    assert.match(text.stdout, /rotated-leaf-0: CURRENT serial [0-9a-f]+, notAfter /);
  });

  test('after --no-restart every pod serves the old serial; a restarted pod alone is CURRENT; --stale-only restarts only the stale ones', async () => {
    const oldSerial = await serverSerial('rotated');
    const rotated = await plugin(['tls', 'rotate', 'rotated', '--no-restart', '--method', 'cert-manager']);
    assert.equal(rotated.code, ExitCode.ok, rotated.stdout + rotated.stderr);
    assert.match(
      rotated.stdout,
      /as expected with --no-restart, rotated-aggregator-0, rotated-leaf-0, rotated-leaf-1 still serve the old certificate \(seen on the wire\)/,
    );
    const newSerial = await serverSerial('rotated');
    assert.notEqual(newSerial, oldSerial);

    const status = await plugin(['tls', 'status', 'rotated']);
    assert.equal(status.code, ExitCode.findings, status.stdout);
    assert.match(
      status.stdout,
      new RegExp(
        `rotated-aggregator-0 serves serial ${oldSerial} .*not the Secret's ${newSerial}: seen on the wire`,
      ),
    );
    assert.match(status.stdout, new RegExp(`rotated-leaf-0, rotated-leaf-1 serve serial ${oldSerial} `));
    assert.match(status.stdout, /--restart-only --stale-only/);
    for (const [pod, entry] of await servedByPod('rotated'))
      assert.deepEqual(entry, { served: 'stale', serial: oldSerial }, pod);
    assert.equal(await opensslSerial('rotated-aggregator-0'), oldSerial);

    // Restart one pod by hand: exactly that one serves the new certificate.
    const before = await podUids('rotated');
    await client.delete(Resources.pod, ns, 'rotated-leaf-1');
    await eventually(
      'rotated-leaf-1 replaced and CURRENT',
      async () => {
        const served = await servedByPod('rotated');
        return served.get('rotated-leaf-1')?.served === 'current' ? true : undefined;
      },
      120_000,
    );
    const served = await servedByPod('rotated');
    assert.equal(served.get('rotated-aggregator-0')?.served, 'stale');
    assert.equal(served.get('rotated-leaf-0')?.served, 'stale');
    assert.equal(await opensslSerial('rotated-leaf-1'), newSerial);
    const { report: table } = await report('rotated');
    assert.deepEqual(table.databases[0]?.served, {
      pods: 3,
      current: 1,
      stale: 2,
      noTls: 0,
      failed: 0,
      notProbed: 0,
    });
    const listing = await plugin(['tls', 'status', '--probe']);
    assert.match(listing.stdout, /^rotated .* 2\/3 stale /m);

    // --stale-only: the two stale pods are replaced, one at a time; the current one keeps its UID.
    const midway = await podUids('rotated');
    const restart = await plugin(['tls', 'rotate', 'rotated', '--restart-only', '--stale-only']);
    assert.equal(restart.code, ExitCode.ok, restart.stdout + restart.stderr);
    assert.match(restart.stdout, /deleted pod wire-e2e\/rotated-aggregator-0 \(served serial/);
    assert.match(restart.stdout, /pod wire-e2e\/rotated-leaf-0 now serves the current certificate/);
    assert.doesNotMatch(restart.stdout, /deleted pod wire-e2e\/rotated-leaf-1/);
    const after = await podUids('rotated');
    assert.equal(after['rotated-leaf-1'], midway['rotated-leaf-1'], 'the current pod was left alone');
    assert.notEqual(after['rotated-aggregator-0'], before['rotated-aggregator-0']);
    assert.notEqual(after['rotated-leaf-0'], before['rotated-leaf-0']);
    for (const [pod, entry] of await servedByPod('rotated'))
      assert.deepEqual(entry, { served: 'current', serial: newSerial }, pod);
    // Nothing left to do: a second run restarts nothing.
    const again = await plugin(['tls', 'rotate', 'rotated', '--restart-only', '--stale-only']);
    assert.equal(again.code, ExitCode.ok, again.stderr);
    assert.match(again.stdout, /no pod serves a stale certificate: nothing to restart/);
    assert.deepEqual(await podUids('rotated'), after);
  });

  test('tls rotate ends with every pod CURRENT on the wire, and a real client verifies the server', async () => {
    const oldSerial = await serverSerial('clients');
    const rotated = await plugin(['tls', 'rotate', 'clients', '-o', 'json']);
    assert.equal(rotated.code, ExitCode.ok, rotated.stdout + rotated.stderr);
    const newSerial = await serverSerial('clients');
    assert.notEqual(newSerial, oldSerial);
    const [result] = JSON.parse(rotated.stdout).results;
    assert.deepEqual(
      result.served.map((entry: { served: string; serial: string }) => [entry.served, entry.serial]),
      [
        ['current', newSerial],
        ['current', newSerial],
        ['current', newSerial],
      ],
    );
    const forward = await portForward(ns, 'clients-aggregator-0');
    try {
      assert.equal((await servedCertificate(forward.port)).serial, newSerial);
      const server = await secretTlsFiles(ns, 'clients-server-cert');
      const clientCert = await secretTlsFiles(ns, 'clients-client-cert');
      const unrelated = path.join(repoRoot, 'test', 'fixtures', 'unrelated-ca.crt');
      const login = (options: { ca?: string; cert?: string; key?: string }) =>
        mariadbLogin({ port: forward.port, user: 'app', verifyServer: true, sql: 'SELECT 1', ...options });
      const verified = await login({ ca: server.ca, cert: clientCert.cert, key: clientCert.key });
      assert.equal(verified.code, 0, verified.stderr);
      const wrongCa = await login({ ca: unrelated, cert: clientCert.cert, key: clientCert.key });
      assert.notEqual(wrongCa.code, 0, 'a CA the served certificate does not chain to is refused');
      const withoutCertificate = await login({ ca: server.ca });
      assert.notEqual(
        withoutCertificate.code,
        0,
        'REQUIRE X509 refuses a login without a client certificate',
      );
    } finally {
      await forward.close();
    }
  });

  test('the wire wins over start times: a pinned old certificate on a new pod is STALE', async () => {
    const secret = await client.get<Secret>(Resources.secret, ns, 'pinned-server-cert');
    const oldSerial = await serverSerial('pinned');
    await client.delete(Resources.secret, ns, 'pinned-old-server-cert').catch(() => undefined);
    await client.create(Resources.secret, ns, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'pinned-old-server-cert', namespace: ns },
      type: 'kubernetes.io/tls',
      data: secret.data,
    } as Secret);
    const rotated = await plugin([
      'tls',
      'rotate',
      'pinned',
      '--method',
      'cert-manager',
      '--restart-with',
      'annotation',
    ]);
    assert.equal(rotated.code, ExitCode.ok, rotated.stdout + rotated.stderr);
    const newSerial = await serverSerial('pinned');
    // The pod started after the new certificate was issued, but serves the old one.
    await annotatePod('pinned-leaf-0', serveSecretAnnotation, 'pinned-old-server-cert');
    await eventually('pinned-leaf-0 serves the pinned certificate', async () =>
      (await opensslSerial('pinned-leaf-0')) === oldSerial ? true : undefined,
    );
    const served = await servedByPod('pinned');
    assert.deepEqual(served.get('pinned-leaf-0'), { served: 'stale', serial: oldSerial });
    assert.deepEqual(served.get('pinned-leaf-1'), { served: 'current', serial: newSerial });
    const status = await plugin(['tls', 'status', 'pinned']);
    assert.equal(status.code, ExitCode.findings);
    assert.match(status.stdout, new RegExp(`pinned-leaf-0 serves serial ${oldSerial} .*: seen on the wire`));
    assert.doesNotMatch(status.stdout, /started before the current certificate/);
    await annotatePod('pinned-leaf-0', serveSecretAnnotation, null);
  });

  test('each failure on the wire is named, and a pod that never answers ends within --probe-timeout', async () => {
    const cases: [string, RegExp][] = [
      ['no-tls', /faults-leaf-0.*does not offer TLS on its MySQL port/],
      ['refused', /faults-leaf-0.*refused the connection on port 3306/],
      ['bad-tls', /faults-leaf-0.*the TLS handshake failed/],
    ];
    for (const [mode, message] of cases) {
      await annotatePod('faults-leaf-0', wireAnnotation, mode);
      const status = await eventually(
        `faults-leaf-0 in mode ${mode}`,
        async () => {
          const result = await plugin(['tls', 'status', 'faults', '--probe-timeout', '3s']);
          return message.test(result.stdout) ? result : undefined;
        },
        60_000,
      );
      assert.equal(status.code, ExitCode.findings, mode);
      assert.match(status.stdout, /CRITICAL/, mode);
    }
    await annotatePod('faults-leaf-0', wireAnnotation, 'blackhole');
    await eventually(
      'faults-leaf-0 black hole',
      async () => {
        const result = await plugin(['tls', 'status', 'faults', '--probe-timeout', '2s']);
        return /faults-leaf-0.*did not answer in time: no answer within 2s/.test(result.stdout)
          ? true
          : undefined;
      },
      60_000,
    );
    const started = performance.now();
    const timed = await plugin(['tls', 'status', 'faults', '--probe-timeout', '2s', '-o', 'json']);
    const elapsed = performance.now() - started;
    // Bounds a stuck probe without a limit would break by far (it waits until the server gives up),
    // with room for a busy machine: the limit itself is checked on the pod's own elapsed time.
    assert.ok(elapsed < 15_000, `one stuck pod stalls nothing: ${Math.round(elapsed)} ms`);
    const pods = (JSON.parse(timed.stdout) as StatusReport).databases[0]?.petSets.flatMap(
      (p) => p.pods ?? [],
    );
    const stuck = pods?.find((pod) => pod.name === 'faults-leaf-0')?.probe;
    assert.equal(stuck?.result, 'timeout');
    assert.ok((stuck?.elapsedMs ?? 0) < 3_000, `the stuck pod's probe took ${stuck?.elapsedMs} ms`);
    assert.equal(
      pods?.find((pod) => pod.name === 'faults-leaf-1')?.served,
      'current',
      'the other pods are still probed',
    );
    // Ctrl-C while a probe waits on the black hole: exit 130 at once, not at the time limit.
    const child = spawn(
      binary,
      ['tls', 'status', 'faults', '-n', ns, '--context', 'admin', '--probe-timeout', '60s'],
      {
        env: { ...process.env, KUBECONFIG: kubeconfig },
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const interrupted = performance.now();
    child.kill('SIGINT');
    assert.equal(await exited, ExitCode.interrupted);
    assert.ok(performance.now() - interrupted < 1500, 'the probe stops at once on Ctrl-C');

    await annotatePod('faults-leaf-0', wireAnnotation, 'legacy-tls');
    await eventually(
      'faults-leaf-0 accepts TLS 1.0/1.1',
      async () => {
        const result = await plugin(['tls', 'status', 'faults']);
        return /faults-leaf-0.*still accepts TLS 1.0\/1.1/.test(result.stdout) ? true : undefined;
      },
      60_000,
    );
    await annotatePod('faults-leaf-0', wireAnnotation, null);
    await healthy('faults');

    // A pod that is not running is not probed: said, and informational.
    await client.patch(
      Resources.pod,
      { namespace: ns, name: 'faults-leaf-1' },
      { status: { phase: 'Pending' } },
      { subresource: 'status' },
    );
    const pending = await plugin(['tls', 'status', 'faults']);
    assert.match(pending.stdout, /faults-leaf-1: not probed: the pod is Pending, not Running/);
    await client.patch(
      Resources.pod,
      { namespace: ns, name: 'faults-leaf-1' },
      { status: { phase: 'Running' } },
      { subresource: 'status' },
    );
  });

  test('without pods/portforward: "not probed: forbidden", and exit 0 for a healthy database', async () => {
    kubectlApply(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: wire-status-user, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-singlestore-status}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: status-user}]`);
    const token = clusterEnv().STATUS_TOKEN as string;
    const result = await eventually('the status role bound', async () => {
      const run = await runPlugin(['tls', 'status', 'faults', '-n', ns, '--token', token]);
      return run.code === ExitCode.ok ? run : undefined;
    });
    assert.match(result.stdout, /not probed: forbidden \(pods\/portforward/);
    const listing = await runPlugin(['tls', 'status', '-n', ns, '--probe', '--token', token]);
    assert.match(listing.stdout, /^faults .* - +OK /m);
  });

  test('-o json with the probe follows the v1 schema; -A without --probe probes nothing', async () => {
    const { Ajv } = await import('ajv');
    const { readFileSync } = await import('node:fs');
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'src', 'tls', 'report.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: false, formats: { 'date-time': true } }).compile(schema);
    const probed = await plugin(['tls', 'status', '--probe', '-o', 'json']);
    assert.ok(validate(JSON.parse(probed.stdout)), JSON.stringify(validate.errors));
    const plain = await runPlugin(['tls', 'status', '-A', '-o', 'json', '-v', '6']);
    assert.doesNotMatch(plain.stderr, /portforward/);
    assert.ok((JSON.parse(plain.stdout) as StatusReport).databases.every((db) => db.served === undefined));
  });
});
