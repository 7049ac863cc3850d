/**
 * The interrupt matrix (issue 12): every command and method that changes a database, interrupted
 * (SIGINT or SIGKILL) at each moment of its work, then run again the same way. The re-run must finish
 * what the first run started (exit 0, well before its --timeout) with exactly one issuance per
 * Certificate and every pod restarted exactly once. The moments are made deterministic by the
 * stand-in's holds (test/standin/holds.ts) and, before the write, by a proxy in front of the API
 * server that holds the command's first write:
 *   before-write  the command has read and decided, and its first write has not reached the API server;
 *   progressing   the change is under way: the ops request is held in Progressing (methods without an
 *                 ops request: the change is written and every PetSet's rollout is held); the re-run
 *                 starts while it is still held;
 *   successful    as progressing, then released and finished (ops request Successful) before the re-run;
 *   rollout       mid-rollout: the aggregator's pods restarted, the leaf's held.
 * Each cell has a database of its own (one aggregator, one leaf). One test file per command and method
 * (interrupt-matrix-*.test.ts), each in a namespace of its own, its eight cells run at once: each
 * file stays well within scripts/test's time limit per file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { observe } from '../../src/kube/observe.ts';
import { Resources } from '../../src/kube/resources.ts';
import { rolledOut } from '../../src/kubedb/petset.ts';
import type { Certificate, OpsRequest, PetSet, Pod, Singlestore } from '../../src/kubedb/types.ts';
import { holdOpsRequestAnnotation, holdRolloutAnnotation } from '../standin/holds.ts';
import { startApiProxy } from '../support/api-proxy.ts';
import {
  adminClient,
  clusterDir,
  clusterEnv,
  eventually,
  kubectlApply,
  namespaceWithIssuer,
  singlestoreYaml,
  skipReason,
  startPlugin,
} from './harness.ts';

const client = adminClient();
/** The namespace of the file being run (one matrix per test process). */
let ns = '';
/**
 * The re-run's --timeout, and how long it may go on once the database has converged: half of it. A
 * re-run that waits for what already happened runs into its timeout; one that only verifies (a
 * `tls status` with the probe, some 20 s on a busy machine) stays well below.
 */
const timeout = '2m';
const lingerLimitMs = 60_000;
/** SIGINT must end the command within this. */
const promptExitMs = 5_000;
const terminal = new Set(['Successful', 'Failed', 'Skipped', 'Denied']);

type Command = 'enable' | 'rotate' | 'disable';
type Moment = 'before-write' | 'progressing' | 'successful' | 'rollout';
type Signal = 'SIGINT' | 'SIGKILL';

interface Variant {
  id: string;
  command: Command;
  args: string[];
  /** The method works through an ops request (ReconfigureTLS, or rotate's Restart). */
  opsRequest: boolean;
}

const variants: Variant[] = [
  {
    id: 'enable-ops',
    command: 'enable',
    args: ['--issuer', 'sdb-issuer', '--method', 'ops-request'],
    opsRequest: true,
  },
  {
    id: 'enable-patch',
    command: 'enable',
    args: ['--issuer', 'sdb-issuer', '--method', 'patch'],
    opsRequest: false,
  },
  { id: 'rotate-ops', command: 'rotate', args: ['--method', 'ops-request'], opsRequest: true },
  {
    id: 'rotate-cm-ops',
    command: 'rotate',
    args: ['--method', 'cert-manager', '--restart-with', 'ops-request'],
    opsRequest: true,
  },
  {
    id: 'rotate-cm-ann',
    command: 'rotate',
    args: ['--method', 'cert-manager', '--restart-with', 'annotation'],
    opsRequest: false,
  },
  { id: 'disable-ops', command: 'disable', args: ['--method', 'ops-request'], opsRequest: true },
  { id: 'disable-patch', command: 'disable', args: ['--method', 'patch'], opsRequest: false },
];
const moments: Moment[] = ['before-write', 'progressing', 'successful', 'rollout'];
const signals: Signal[] = ['SIGINT', 'SIGKILL'];

const cellName = (variant: Variant, moment: Moment, signal: Signal) =>
  `${variant.id}-${moment}-${signal === 'SIGINT' ? 'int' : 'kill'}`;

const argsOf = (variant: Variant, name: string) => [
  'tls',
  variant.command,
  name,
  '-n',
  ns,
  ...variant.args,
  '--wait',
  '--timeout',
  timeout,
  '--progress',
  'plain',
];

/** Every pod UID each pod name has had since the watch started: two means restarted once. */
function watchPods(name: string): { uids: Map<string, Set<string>>; stop: () => void } {
  const uids = new Map<string, Set<string>>();
  const controller = new AbortController();
  void observe<Pod>(
    client,
    Resources.pod,
    { namespace: ns, labelSelector: `app.kubernetes.io/instance=${name}`, signal: controller.signal },
    (event) => {
      for (const pod of event.type === 'sync' ? event.objects : [event.object]) {
        const seen = uids.get(pod.metadata.name) ?? new Set<string>();
        seen.add(pod.metadata.uid as string);
        uids.set(pod.metadata.name, seen);
      }
    },
  );
  return { uids, stop: () => controller.abort() };
}

const selector = (name: string) => ({ namespace: ns, labelSelector: `app.kubernetes.io/instance=${name}` });

async function certificates(name: string): Promise<Map<string, number>> {
  const list = await client.list<Certificate>(Resources.certificate, selector(name));
  return new Map(list.items.map((item) => [item.metadata.name, item.status?.revision ?? 0]));
}

async function requestsOf(name: string): Promise<OpsRequest[]> {
  const list = await client.list<OpsRequest>(Resources.opsRequest, { namespace: ns });
  return list.items.filter((request) => request.spec.databaseRef?.name === name);
}

async function petSets(name: string): Promise<PetSet[]> {
  return (await client.list<PetSet>(Resources.petset, selector(name))).items;
}

const templateOf = (petSet: PetSet) => JSON.stringify(petSet.spec.template);

async function setAnnotations(name: string, annotations: Record<string, string | null>): Promise<void> {
  await client.patch(Resources.singlestore, { namespace: ns, name }, { metadata: { annotations } });
}

/** Nothing is moving any more: every ops request ended, every PetSet rolled out, the pods Ready. */
async function settled(name: string, tls: boolean): Promise<void> {
  await eventually(
    `${name} settled`,
    async () => {
      if ((await requestsOf(name)).some((request) => !terminal.has(request.status?.phase ?? '')))
        return false;
      const sets = await petSets(name);
      if (sets.length !== 2 || !sets.every(rolledOut)) return false;
      const list = await client.list<Certificate>(Resources.certificate, selector(name));
      const issuing = list.items.some(
        (c) =>
          c.status?.conditions?.find((condition) => condition.type === 'Issuing')?.status === 'True' ||
          c.status?.conditions?.find((condition) => condition.type === 'Ready')?.status !== 'True',
      );
      if (tls ? list.items.length !== 2 || issuing : list.items.length !== 0) return false;
      const pods = (await client.list<Pod>(Resources.pod, selector(name))).items;
      return (
        pods.length === 2 &&
        pods.every(
          (pod) =>
            !pod.metadata.deletionTimestamp &&
            pod.status?.conditions?.find((condition) => condition.type === 'Ready')?.status === 'True',
        )
      );
    },
    180_000,
    1000,
  );
}

/**
 * The command's first write held in a proxy in front of the API server (test/support/api-proxy.ts):
 * its reads go through, the write never reaches the API server (once released it is answered 503,
 * the command having been stopped by then). Reviews and Events are not the change: they pass.
 */
async function writeHeld(): Promise<{ args: string[]; reached: Promise<string>; release: () => void }> {
  let reach: (what: string) => void = () => {};
  const reached = new Promise<string>((resolve) => {
    reach = resolve;
  });
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const proxy = await startApiProxy(clusterDir, clusterEnv().SERVER as string, async (request) => {
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(request.method);
    if (!write || /\/(selfsubject\w*reviews|events)(\?|$)/.test(request.url)) return undefined;
    reach(`${request.method} ${request.url}`);
    await released;
    return { respond: 503 };
  });
  return {
    args: ['--server', proxy.url],
    reached,
    release: () => {
      release();
      setTimeout(() => proxy.close(), 1000);
    },
  };
}

/** What a cell's database looks like before the command, to tell what changed. */
interface Before {
  revisions: Map<string, number>;
  templates: Map<string, string>;
  podUids: Map<string, string>;
  tls: unknown;
}

async function snapshot(name: string): Promise<Before> {
  const pods = await client.list<Pod>(Resources.pod, selector(name));
  const db = await client.get<Singlestore>(Resources.singlestore, ns, name);
  return {
    revisions: await certificates(name),
    templates: new Map((await petSets(name)).map((petSet) => [petSet.metadata.name, templateOf(petSet)])),
    podUids: new Map(pods.items.map((pod) => [pod.metadata.name, pod.metadata.uid as string])),
    tls: db.spec?.tls ?? null,
  };
}

/** Waits until the command's work has reached the moment (holds set beforehand keep it there). */
async function reachMoment(name: string, variant: Variant, moment: Moment, before: Before): Promise<void> {
  if (moment === 'rollout') {
    await eventually(
      `${name}: the aggregator restarted and the leaf's rollout held`,
      async () => {
        const pods = await client.list<Pod>(Resources.pod, selector(name));
        const aggregatorRestarted = pods.items.some(
          (pod) =>
            pod.metadata.labels?.['kubedb.com/role'] === 'aggregator' &&
            pod.metadata.uid !== before.podUids.get(pod.metadata.name),
        );
        const leaf = (await petSets(name)).find(
          (petSet) => petSet.metadata.labels?.['kubedb.com/role'] === 'leaf',
        );
        return aggregatorRestarted && leaf && templateOf(leaf) !== before.templates.get(leaf.metadata.name);
      },
      180_000,
      500,
    );
    return;
  }
  if (variant.opsRequest) {
    await eventually(
      `${name}: an ops request held in Progressing`,
      async () => (await requestsOf(name)).some((request) => request.status?.phase === 'Progressing'),
      180_000,
      500,
    );
    return;
  }
  await eventually(
    `${name}: the change written and every PetSet's rollout held`,
    async () => {
      const sets = await petSets(name);
      return (
        sets.length === 2 &&
        sets.every((petSet) => templateOf(petSet) !== before.templates.get(petSet.metadata.name))
      );
    },
    180_000,
    500,
  );
}

function holdsFor(variant: Variant, moment: Moment): Record<string, string> {
  if (moment === 'before-write') return {};
  if (moment === 'rollout') return { [holdRolloutAnnotation]: 'leaf' };
  return variant.opsRequest
    ? { [holdOpsRequestAnnotation]: 'Progressing' }
    : { [holdRolloutAnnotation]: 'all' };
}

const released = { [holdOpsRequestAnnotation]: null, [holdRolloutAnnotation]: null };

async function runCell(variant: Variant, moment: Moment, signal: Signal): Promise<void> {
  const name = cellName(variant, moment, signal);
  const tlsBefore = variant.command !== 'enable';
  const tlsAfter = variant.command !== 'disable';
  kubectlApply(singlestoreYaml(name, ns, tlsBefore ? { issuer: 'sdb-issuer' } : {}));
  await settled(name, tlsBefore);
  const initial = await snapshot(name);
  const pods = watchPods(name);
  try {
    const holds = holdsFor(variant, moment);
    if (Object.keys(holds).length) await setAnnotations(name, holds);
    const held = moment === 'before-write' ? await writeHeld() : undefined;
    const first = startPlugin([...argsOf(variant, name), ...(held?.args ?? [])]);
    try {
      const heldWrite = held
        ? await Promise.race([
            held.reached,
            first.exited.then((code) => {
              throw new Error(
                `the first run exited (${code}) before any write\n${first.stdout()}${first.stderr()}`,
              );
            }),
          ])
        : undefined;
      if (!held) await reachMoment(name, variant, moment, initial);
      const signalled = performance.now();
      const code = await first.stop(signal);
      const exitMs = performance.now() - signalled;
      const output = `${heldWrite ? `first write held: ${heldWrite}\n` : ''}first run's output:\n${first.stdout()}${first.stderr()}`;
      if (signal === 'SIGINT') {
        assert.equal(code, ExitCode.interrupted, `SIGINT: exit code ${code}, not 130\n${output}`);
        assert.ok(exitMs < promptExitMs, `SIGINT: exited after ${(exitMs / 1000).toFixed(1)}s\n${output}`);
      }
      if (held) await assertUntouched(name, initial, output);
    } finally {
      held?.release();
    }
    if (moment === 'successful') {
      await setAnnotations(name, released);
      await settled(name, tlsAfter);
    }

    const rerun = startPlugin(argsOf(variant, name));
    const started = performance.now();
    // When the database converges (before the write nothing is under way yet: the re-run does it all).
    let convergedAt: number | undefined;
    const converging =
      moment === 'before-write'
        ? undefined
        : settled(name, tlsAfter).then(
            () => {
              convergedAt = performance.now();
            },
            () => undefined,
          );
    if (moment === 'progressing' || moment === 'rollout') {
      // Released while the re-run is on its way: it must pick up the change still under way.
      await eventually(
        `${name}: the re-run started`,
        async () => rerun.stdout() !== '' || rerun.stderr() !== '' || performance.now() - started > 3000,
      );
      await setAnnotations(name, released);
    }
    const rerunCode = await Promise.race([
      rerun.exited,
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 150_000)),
    ]);
    if (rerunCode === 'hung') await rerun.stop('SIGKILL');
    const ended = performance.now();
    const rerunMs = ended - started;
    const rerunOutput = `re-run's output:\n${rerun.stdout()}${rerun.stderr()}`;
    assert.equal(
      rerunCode,
      ExitCode.ok,
      `re-run exit code ${rerunCode} after ${(rerunMs / 1000).toFixed(1)}s\n${rerunOutput}`,
    );

    await settled(name, tlsAfter);
    // Late duplicates (a second ops request, a second renewal) would show within a moment.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await settled(name, tlsAfter);
    await assertOnce(name, { variant, before: initial, uids: pods.uids, output: rerunOutput });
    await converging;
    if (convergedAt !== undefined) {
      const linger = ended - convergedAt;
      assert.ok(
        linger < lingerLimitMs,
        `the re-run went on for ${(linger / 1000).toFixed(1)}s after the database had converged (${(rerunMs / 1000).toFixed(1)}s in all, --timeout ${timeout}): it waited for what had already happened\n${rerunOutput}`,
      );
    }
  } finally {
    pods.stop();
  }
}

async function assertUntouched(name: string, before: Before, output: string): Promise<void> {
  const now = await snapshot(name);
  assert.deepEqual(now.tls, before.tls, `interrupted before the write, yet spec.tls changed\n${output}`);
  assert.deepEqual(
    now.templates,
    before.templates,
    `interrupted before the write, yet a PetSet changed\n${output}`,
  );
  assert.deepEqual(
    now.revisions,
    before.revisions,
    `interrupted before the write, yet a Certificate was issued\n${output}`,
  );
  assert.deepEqual(
    await requestsOf(name),
    [],
    `interrupted before the write, yet an ops request exists\n${output}`,
  );
}

async function assertOnce(
  name: string,
  facts: { variant: Variant; before: Before; uids: Map<string, Set<string>>; output: string },
): Promise<void> {
  const { variant, before, uids, output } = facts;
  const revisions = await certificates(name);
  const text = (map: Map<string, number>) =>
    [...map].map(([certificate, revision]) => `${certificate} revision ${revision}`).join(', ') || 'none';
  if (variant.command === 'enable') {
    const expected = new Map([...revisions.keys()].map((certificate) => [certificate, 1]));
    assert.equal(revisions.size, 2, `expected 2 Certificates, found ${text(revisions)}\n${output}`);
    assert.deepEqual(revisions, expected, `expected one issuance each, found ${text(revisions)}\n${output}`);
  } else if (variant.command === 'rotate') {
    const expected = new Map(
      [...before.revisions].map(([certificate, revision]) => [certificate, revision + 1]),
    );
    assert.deepEqual(
      revisions,
      expected,
      `expected exactly one new issuance (${text(expected)}), found ${text(revisions)}\n${output}`,
    );
  } else {
    assert.equal(revisions.size, 0, `TLS off, yet Certificates remain: ${text(revisions)}\n${output}`);
  }
  const restarts = [...uids].map(([pod, seen]) => `${pod} ran as ${seen.size} pods`);
  assert.equal(uids.size, 2, `expected 2 pod names, saw: ${restarts.join(', ')}\n${output}`);
  assert.ok(
    [...uids.values()].every((seen) => seen.size === 2),
    `each pod must restart exactly once: ${restarts.join(', ')}\n${output}`,
  );
  const requests = await requestsOf(name);
  const expectedRequests = variant.opsRequest ? 1 : 0;
  assert.equal(
    requests.length,
    expectedRequests,
    `expected ${expectedRequests} ops request(s), found ${requests.map((request) => `${request.metadata.name} (${request.spec.type}, ${request.status?.phase})`).join(', ') || 'none'}\n${output}`,
  );
}

/** The database goes, and its ops requests with it (they have no owner), so nothing of a cell lingers. */
async function cleanUp(name: string): Promise<void> {
  for (const request of await requestsOf(name).catch(() => [])) {
    await client.delete(Resources.opsRequest, ns, request.metadata.name).catch(() => undefined);
  }
  await client.delete(Resources.singlestore, ns, name).catch(() => undefined);
}

/** The cells of one variant (by id), in a namespace of their own. */
export function defineMatrix(id: string, namespace: string): void {
  const variant = variants.find((item) => item.id === id);
  if (!variant) throw new Error(`no variant ${id}`);
  ns = namespace;
  const started = performance.now();
  describe(
    `interrupt matrix of tls ${variant.command} ${variant.args.join(' ')}: interrupted, then re-run, converges once`,
    { skip: skipReason, concurrency: 8 },
    () => {
      before(async () => {
        await namespaceWithIssuer(ns);
      });
      after(() => {
        process.stderr.write(
          `# interrupt matrix (${id}) wall time ${((performance.now() - started) / 1000).toFixed(0)}s\n`,
        );
      });
      for (const moment of moments) {
        for (const signal of signals) {
          const title = `tls ${variant.command} ${variant.args.join(' ')}: ${signal} at ${moment}, then re-run`;
          test(title, async () => {
            try {
              await runCell(variant, moment, signal);
            } finally {
              await cleanUp(cellName(variant, moment, signal));
            }
          });
        }
      }
    },
  );
}
