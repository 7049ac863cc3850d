/**
 * Benchmark of `tls status` at scale, on a local API server with no controllers: N databases (default
 * 500; each with two Certificates, two TLS Secrets and two PetSets, created directly through the API)
 * in 10 namespaces, among M unrelated TLS Secrets and M unrelated Certificates (default 5,000 each,
 * other applications' TLS, M/10 per namespace), and one database alone in a namespace of its own.
 * Measured in the same run against kubectl, with --probe=false, medians of `runs`:
 * - one database in a noisy namespace vs `kubectl get singlestores.kubedb.com NAME -o json`, and vs
 *   the same command in the empty namespace;
 * - `-l` picking 3 databases (read one by one) vs 4 (listed), to place perDatabaseReadsUpTo;
 * - `-A -o json` vs `kubectl get singlestores.kubedb.com,certificates,secrets,petsets -A -o json`;
 * wall time, peak memory (max RSS) and API requests; and `tls status NAME` through a proxy adding
 * 30 ms to every request, with the number of sequential round trips it needed. Asserts nothing.
 *   node --import tsx scripts/bench-status.ts [N] [M] [runs]
 * With BENCH_STATUS_HOLD=1 it populates the cluster, prints its KUBECONFIG and how to stop it, and waits;
 * BENCH_PLUGIN=path measures that binary instead of dist/kubectl-singlestore.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeClient } from '../src/kube/client.ts';
import { createFactory } from '../src/kube/factory.ts';
import type { KubeObject } from '../src/kube/objects.ts';
import { silentLog } from '../src/kube/request-log.ts';
import { Resources, type ResourceType } from '../src/kube/resources.ts';
import { certificateName, databaseLabels, petSetNames, serverDnsNames } from '../src/kubedb/naming.ts';
import { startApiProxy } from '../test/support/api-proxy.ts';
import { forgeCertificate } from '../test/support/x509-forge.ts';

const count = Number(process.argv[2] ?? 500);
const unrelatedCount = Number(process.argv[3] ?? 5000);
const runs = Number(process.argv[4] ?? 5);
const latencyMs = 30;
const namespaces = 10;
const root = path.resolve(import.meta.dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'bench-status-'));
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function cluster(action: 'up' | 'down'): void {
  execFileSync(path.join(root, 'scripts', 'test-cluster'), [action, dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, TEST_CLUSTER_CONTROLLERS: 'none' },
  });
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function createWithStatus(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject & { status?: unknown },
): Promise<KubeObject> {
  const { status, ...body } = object;
  const created = await client.create(type, object.metadata.namespace, body as KubeObject);
  if (status)
    await client.patch(
      type,
      { namespace: object.metadata.namespace, name: object.metadata.name },
      { status },
      { subresource: 'status' },
    );
  return created;
}

const day = 86_400_000;
const ready = [
  {
    type: 'Ready',
    status: 'True',
    reason: 'Ready',
    message: 'Certificate is up to date and has not expired',
  },
];
/** Three databases of bench-0 carry `pick=three`, four `pick=four`: the -l comparison. */
const picked = (i: number): Record<string, string> =>
  i % namespaces === 0 && i < 40 ? { ...(i < 30 ? { pick: 'three' } : {}), pick4: 'four' } : {};

function base64(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
}

/** A namespace with the CA Issuer `sdb-issuer` and its CA Secret. */
async function namespaceWithIssuer(
  client: KubeClient,
  namespace: string,
  ca: ReturnType<typeof forgeCertificate>,
): Promise<void> {
  await client.create(Resources.namespace, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  await client.create(Resources.secret, namespace, {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: 'sdb-ca', namespace },
    data: base64({ 'tls.crt': ca.pem, 'tls.key': ca.keyPem }),
  } as KubeObject);
  await createWithStatus(client, Resources.issuer, {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Issuer',
    metadata: { name: 'sdb-issuer', namespace },
    spec: { ca: { secretName: 'sdb-ca' } },
    status: { conditions: ready },
  } as KubeObject);
}

/** One TLS database as KubeDB and cert-manager leave it: its Singlestore, Certificates, Secrets, PetSets. */
async function database(
  client: KubeClient,
  where: { name: string; namespace: string; labels?: Record<string, string> },
  ca: ReturnType<typeof forgeCertificate>,
): Promise<[ResourceType, KubeObject][]> {
  const { name, namespace } = where;
  const now = Date.now();
  const labels = databaseLabels(name);
  const created = await createWithStatus(client, Resources.singlestore, {
    apiVersion: 'kubedb.com/v1alpha2',
    kind: 'Singlestore',
    metadata: { name, namespace, labels: { ...labels, ...where.labels } },
    spec: {
      version: '8.7.10',
      licenseSecret: { kind: 'Secret', name: 'license' },
      topology: { aggregator: { replicas: 1 }, leaf: { replicas: 1 } },
      tls: { issuerRef: { apiGroup: 'cert-manager.io', kind: 'Issuer', name: 'sdb-issuer' } },
    },
    status: { phase: 'Ready' },
  } as KubeObject);
  const owner = {
    apiVersion: 'kubedb.com/v1alpha2',
    kind: 'Singlestore',
    name,
    uid: created.metadata.uid as string,
    controller: true,
  };
  const objects: [ResourceType, KubeObject][] = [];
  for (const alias of ['server', 'client']) {
    const certName = certificateName(name, alias);
    const leaf = forgeCertificate({
      commonName: alias === 'server' ? name : 'root',
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 90 * day),
      dnsNames: alias === 'server' ? serverDnsNames(name, namespace) : [],
      issuer: ca,
    });
    objects.push([
      Resources.certificate,
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: certName, namespace, labels, ownerReferences: [owner] },
        spec: { secretName: certName, issuerRef: { name: 'sdb-issuer', kind: 'Issuer' } },
        status: { conditions: ready, revision: 1 },
      } as KubeObject,
    ]);
    objects.push([
      Resources.secret,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: certName, namespace },
        data: base64({ 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': ca.pem }),
      } as KubeObject,
    ]);
  }
  for (const petSet of petSetNames(name, true)) {
    objects.push([
      Resources.petset,
      {
        apiVersion: 'apps.k8s.appscode.com/v1',
        kind: 'PetSet',
        metadata: { name: petSet, namespace, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [{ name: 'singlestore', image: 'test' }],
              volumes: [
                {
                  name: 'tls-volume',
                  projected: {
                    sources: [
                      { secret: { name: certificateName(name, 'server') } },
                      { secret: { name: certificateName(name, 'client') } },
                    ],
                  },
                },
              ],
            },
          },
        },
        status: {
          observedGeneration: 1,
          replicas: 1,
          readyReplicas: 1,
          updatedReplicas: 1,
          currentRevision: 'r1',
          updateRevision: 'r1',
        },
      } as KubeObject,
    ]);
  }
  return objects;
}

/** Other applications' TLS: a Secret and a Certificate (of another issuer) per index. */
function unrelated(i: number, leaf: ReturnType<typeof forgeCertificate>): [ResourceType, KubeObject][] {
  const namespace = `bench-${i % namespaces}`;
  const name = `app-${i}-tls`;
  return [
    [
      Resources.secret,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name, namespace, labels: { app: `app-${i}` } },
        data: base64({ 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': leaf.pem }),
      } as KubeObject,
    ],
    [
      Resources.certificate,
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name, namespace, labels: { app: `app-${i}` } },
        spec: {
          secretName: name,
          dnsNames: [`app-${i}.example.com`],
          issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' },
        },
        status: { conditions: ready, revision: 1 },
      } as KubeObject,
    ],
  ];
}

async function populate(client: KubeClient): Promise<void> {
  const now = Date.now();
  const ca = forgeCertificate({
    commonName: 'bench-ca',
    notBefore: new Date(now - day),
    notAfter: new Date(now + 3650 * day),
    isCA: true,
  });
  const started = performance.now();
  for (let n = 0; n < namespaces; n++) await namespaceWithIssuer(client, `bench-${n}`, ca);
  await namespaceWithIssuer(client, 'bench-quiet', ca);
  const objects: [ResourceType, KubeObject][] = [];
  const where = [
    ...Array.from({ length: count }, (_, i) => ({
      name: `sdb-${i}`,
      namespace: `bench-${i % namespaces}`,
      labels: picked(i),
    })),
    { name: 'sdb-quiet', namespace: 'bench-quiet' },
  ];
  await inParallel(where, 16, async (db) => objects.push(...(await database(client, db, ca))));
  const leaf = forgeCertificate({
    commonName: 'shop.example.com',
    notBefore: new Date(now - day),
    notAfter: new Date(now + 90 * day),
    dnsNames: ['shop.example.com'],
  });
  for (let i = 0; i < unrelatedCount; i++) objects.push(...unrelated(i, leaf));
  await inParallel(objects, 16, ([type, object]) =>
    createWithStatus(client, type, object as KubeObject & { status?: unknown }),
  );
  log(
    `created ${objects.length + where.length} objects in ${((performance.now() - started) / 1000).toFixed(1)}s`,
  );
}

interface Measured {
  wallMs: number;
  maxRssKb: number;
}

/** Wall time from this process's clock (time(1) rounds to 10 ms), peak RSS from time(1). */
function measure(command: string, args: string[], env: NodeJS.ProcessEnv): Measured {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const wallMs = performance.now() - started;
  const rss = result.stderr.trim().split('\n').at(-1) ?? '';
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`${command} failed: ${result.stderr.slice(0, 400)}`);
  return { wallMs, maxRssKb: Number(rss) };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

interface Command {
  label: string;
  program: string;
  args: string[];
}

/** Medians of `times` interleaved runs of each command (one warm-up run each, not counted). */
function compare(commands: Command[], env: NodeJS.ProcessEnv, times: number): Map<string, Measured> {
  const samples = new Map<string, Measured[]>(commands.map((command) => [command.label, []]));
  for (let run = 0; run < times + 1; run++) {
    for (const command of commands) {
      const measured = measure(command.program, command.args, env);
      if (run > 0) samples.get(command.label)?.push(measured);
    }
  }
  return new Map(
    [...samples].map(([label, list]) => [
      label,
      { wallMs: median(list.map((s) => s.wallMs)), maxRssKb: median(list.map((s) => s.maxRssKb)) },
    ]),
  );
}

/** API requests of one run, from the plugin's `-v 6` log or kubectl's. */
function requestsOf(command: Command, env: NodeJS.ProcessEnv): number {
  const result = spawnSync(command.program, [...command.args, '-v', '6'], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  return result.stderr.split('\n').filter((line) => /(^|\] )GET https:/.test(line)).length;
}

/** Sequential round trips: the longest chain of requests each sent after the previous one's answer. */
function roundTrips(requests: { startedAt?: number; endedAt?: number }[]): number {
  const sorted = [...requests].sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
  const depth: number[] = [];
  sorted.forEach((request, i) => {
    let before = 0;
    for (let j = 0; j < i; j++) {
      const ended = sorted[j]?.endedAt;
      if (ended !== undefined && ended <= (request.startedAt ?? 0)) before = Math.max(before, depth[j] ?? 0);
    }
    depth.push(before + 1);
  });
  return Math.max(0, ...depth);
}

const row = (label: string, measured: Measured, requests: number | string) =>
  `${label.padEnd(58)}: ${measured.wallMs.toFixed(0).padStart(6)} ms, ${(measured.maxRssKb / 1024).toFixed(0).padStart(4)} MiB max RSS, ${requests} API requests`;
const ratio = (label: string, a: Measured, b: Measured) =>
  `${label.padEnd(58)}: wall x${(a.wallMs / b.wallMs).toFixed(2)}, memory x${(a.maxRssKb / b.maxRssKb).toFixed(2)}`;

async function main(): Promise<void> {
  log(`bringing up an API server (no controllers) in ${dir}`);
  cluster('up');
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    const { client } = createFactory({ kubeconfig, context: 'admin' }, { env: {} }, silentLog, () => {});
    await populate(client);
    if (process.env.BENCH_STATUS_HOLD) {
      // For profiling by hand: the populated cluster stays up until this process is interrupted.
      // A never-settling wait: tsx ends the process on Ctrl-C before any handler here could run.
      log(`holding the cluster: export KUBECONFIG=${kubeconfig}`);
      log(`when done: Ctrl-C, then scripts/test-cluster down ${dir}`);
      await new Promise(() => setInterval(() => {}, 60_000));
    }
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    // BENCH_PLUGIN: another build to measure (a copy, so a rebuild during the run cannot mix two).
    const pluginPath = process.env.BENCH_PLUGIN ?? path.join(root, 'dist', 'kubectl-singlestore');
    const plugin = (label: string, args: string[]): Command => ({
      label,
      program: pluginPath,
      args: ['tls', 'status', ...args, '--probe=false', '-o', 'json'],
    });
    const kubectl = (label: string, args: string[]): Command => ({ label, program: 'kubectl', args });
    const one = [
      plugin('plugin  tls status sdb-0 -n bench-0 (noisy)', ['sdb-0', '-n', 'bench-0']),
      plugin('plugin  tls status sdb-quiet -n bench-quiet (empty)', ['sdb-quiet', '-n', 'bench-quiet']),
      kubectl('kubectl get singlestores.kubedb.com sdb-0 -n bench-0 -o json', [
        'get',
        'singlestores.kubedb.com',
        'sdb-0',
        '-n',
        'bench-0',
        '-o',
        'json',
      ]),
      plugin('plugin  tls status -n bench-0 -l pick=three (one by one)', [
        '-n',
        'bench-0',
        '-l',
        'pick=three',
      ]),
      plugin('plugin  tls status -n bench-0 -l pick4=four (listed)', ['-n', 'bench-0', '-l', 'pick4=four']),
    ];
    const all = [
      plugin('plugin  tls status -A', ['-A']),
      kubectl('kubectl get singlestores,certificates,secrets,petsets -A -o json', [
        'get',
        'singlestores.kubedb.com,certificates,secrets,petsets',
        '-A',
        '-o',
        'json',
      ]),
    ];
    // A command of 100 ms varies more, relatively, than one of seconds: four times the runs.
    const measured = new Map([...compare(one, env, runs * 4), ...compare(all, env, runs)]);
    const get = (command: Command) => measured.get(command.label) as Measured;
    const lines = [
      `databases: ${count} in ${namespaces} namespaces + 1 alone; unrelated: ${unrelatedCount} TLS Secrets and ${unrelatedCount} Certificates (${unrelatedCount / namespaces} of each per namespace); medians of ${runs * 4} runs (one database, -l) and ${runs} (-A)`,
      ...[...one, ...all].map((command) => row(command.label, get(command), requestsOf(command, env))),
      ratio('one database: noisy / kubectl get', get(one[0] as Command), get(one[2] as Command)),
      ratio('one database: noisy / empty namespace', get(one[0] as Command), get(one[1] as Command)),
      ratio('-l: 3 one by one / 4 listed', get(one[3] as Command), get(one[4] as Command)),
      ratio('-A: plugin / kubectl', get(all[0] as Command), get(all[1] as Command)),
    ];
    const report = JSON.parse(
      spawnSync(pluginPath, (all[0] as Command).args, { env, encoding: 'utf8', maxBuffer: 1 << 30 }).stdout,
    );
    const findings = new Map<string, number>();
    for (const db of report.databases as { findings: { severity: string; message: string }[] }[])
      for (const finding of db.findings.filter((f) => f.severity !== 'info'))
        findings.set(finding.message, (findings.get(finding.message) ?? 0) + 1);
    lines.push(
      `-A reported ${report.databases.length} databases, ${report.summary.ok} OK`,
      ...[...findings]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([message, times]) => `  ${times} x ${message}`),
    );
    lines.push(...(await withLatency(kubeconfig, env, pluginPath)));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    cluster('down');
    // etcd's data for thousands of objects: hundreds of MiB left in /tmp otherwise.
    if (!process.env.BENCH_STATUS_HOLD) rmSync(dir, { recursive: true, force: true });
  }
}

function runAsync(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve) => {
    execFile(program, args, { env, maxBuffer: 1 << 30 }, () => resolve());
  });
}

/** `tls status NAME` through a proxy adding `latencyMs` to every request: wall and round trips. */
async function withLatency(
  kubeconfig: string,
  env: NodeJS.ProcessEnv,
  pluginPath: string,
): Promise<string[]> {
  const server = execFileSync(
    'kubectl',
    ['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'],
    {
      env,
      encoding: 'utf8',
    },
  );
  const proxy = await startApiProxy(dir, server, () => ({ delayMs: latencyMs }));
  try {
    const lines: string[] = [];
    for (const [label, args] of [
      ['tls status sdb-0 -n bench-0 --probe=false', ['sdb-0', '-n', 'bench-0']],
      ['tls status -A --probe=false', ['-A']],
    ] as const) {
      const walls: number[] = [];
      let trips = 0;
      let requests = 0;
      for (let run = 0; run < runs; run++) {
        proxy.requests.length = 0;
        const started = performance.now();
        // Not spawnSync: the proxy answers from this process's event loop.
        await runAsync(
          pluginPath,
          ['tls', 'status', ...args, '--probe=false', '-o', 'json', '--server', proxy.url],
          {
            ...env,
            KUBECONFIG: kubeconfig,
          },
        );
        walls.push(performance.now() - started);
        trips = roundTrips(proxy.requests);
        requests = proxy.requests.length;
      }
      lines.push(
        `${`+${latencyMs} ms per request: ${label}`.padEnd(58)}: ${median(walls).toFixed(0).padStart(6)} ms, ${requests} requests in ${trips} sequential round trips`,
      );
    }
    return lines;
  } finally {
    proxy.close();
  }
}

await main();
