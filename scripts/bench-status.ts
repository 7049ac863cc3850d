/**
 * Benchmark of a cluster-wide `tls status`: creates N databases (default 500), each with two
 * Certificates, two TLS Secrets and two PetSets, directly through the API on a local API server with
 * no controllers, then measures in the same run the plugin's `tls status -A -o json` against
 * `kubectl get singlestores.kubedb.com,certificates,secrets,petsets -A -o json` on the same objects:
 * median wall time, peak memory (max RSS) and the number of API requests. Prints ratios; asserts nothing.
 *   node --import tsx scripts/bench-status.ts [N] [runs]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeClient } from '../src/kube/client.ts';
import { createFactory } from '../src/kube/factory.ts';
import type { KubeObject } from '../src/kube/objects.ts';
import { silentLog } from '../src/kube/request-log.ts';
import { Resources, type ResourceType } from '../src/kube/resources.ts';
import { certificateName, databaseLabels, petSetNames, serverDnsNames } from '../src/kubedb/naming.ts';
import { forgeCertificate } from '../test/support/x509-forge.ts';

const count = Number(process.argv[2] ?? 500);
const runs = Number(process.argv[3] ?? 5);
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
      object.metadata.namespace,
      object.metadata.name,
      { status },
      { subresource: 'status' },
    );
  return created;
}

async function populate(client: KubeClient): Promise<void> {
  const now = Date.now();
  const ca = forgeCertificate({
    commonName: 'bench-ca',
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 3650 * 86_400_000),
    isCA: true,
  });
  const ready = [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message: 'Certificate is up to date and has not expired',
    },
  ];
  for (let n = 0; n < namespaces; n++) {
    const namespace = `bench-${n}`;
    await client.create(Resources.namespace, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    await createWithStatus(client, Resources.issuer, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name: 'sdb-issuer', namespace },
      spec: { ca: { secretName: 'sdb-ca' } },
      status: { conditions: ready },
    } as KubeObject);
  }
  const started = performance.now();
  const databases: KubeObject[] = [];
  for (let i = 0; i < count; i++) {
    const name = `sdb-${i}`;
    const namespace = `bench-${i % namespaces}`;
    databases.push({
      apiVersion: 'kubedb.com/v1alpha2',
      kind: 'Singlestore',
      metadata: { name, namespace, labels: databaseLabels(name) },
      spec: {
        version: '8.7.10',
        licenseSecret: { kind: 'Secret', name: 'license' },
        topology: { aggregator: { replicas: 1 }, leaf: { replicas: 1 } },
        tls: { issuerRef: { apiGroup: 'cert-manager.io', kind: 'Issuer', name: 'sdb-issuer' } },
      },
      status: { phase: 'Ready' },
    } as KubeObject);
  }
  const uids = new Map<string, string>();
  await inParallel(databases, 16, async (db) => {
    const created = await createWithStatus(client, Resources.singlestore, db);
    uids.set(db.metadata.name, created.metadata.uid as string);
  });
  const objects: [ResourceType, KubeObject][] = [];
  for (let i = 0; i < count; i++) {
    const name = `sdb-${i}`;
    const namespace = `bench-${i % namespaces}`;
    const labels = databaseLabels(name);
    const owner = {
      apiVersion: 'kubedb.com/v1alpha2',
      kind: 'Singlestore',
      name,
      uid: uids.get(name) as string,
      controller: true,
    };
    for (const alias of ['server', 'client']) {
      const certName = certificateName(name, alias);
      const leaf = forgeCertificate({
        commonName: alias === 'server' ? name : 'root',
        notBefore: new Date(now - 3_600_000),
        notAfter: new Date(now + 90 * 86_400_000),
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
      const data = { 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': ca.pem };
      objects.push([
        Resources.secret,
        {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/tls',
          metadata: { name: certName, namespace },
          data: Object.fromEntries(
            Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
          ),
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
  }
  await inParallel(objects, 16, ([type, object]) =>
    createWithStatus(client, type, object as KubeObject & { status?: unknown }),
  );
  log(
    `created ${objects.length + databases.length} objects in ${((performance.now() - started) / 1000).toFixed(1)}s`,
  );
}

interface Measured {
  wallMs: number;
  maxRssKb: number;
}

function measure(command: string, args: string[], env: NodeJS.ProcessEnv): Measured {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const [seconds, rss] = (result.stderr.trim().split('\n').at(-1) ?? '').split(' ');
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`${command} failed: ${result.stderr.slice(0, 400)}`);
  return { wallMs: Number(seconds) * 1000, maxRssKb: Number(rss) };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main(): Promise<void> {
  log(`bringing up an API server (no controllers) in ${dir}`);
  cluster('up');
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    const { client } = createFactory({ kubeconfig, context: 'admin' }, { env: {} }, silentLog, () => {});
    await populate(client);
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    const plugin = [
      path.join(root, 'dist', 'kubectl-singlestore'),
      ['tls', 'status', '-A', '-o', 'json'],
    ] as const;
    const kubectl = [
      'kubectl',
      ['get', 'singlestores.kubedb.com,certificates,secrets,petsets', '-A', '-o', 'json'],
    ] as const;
    const samples = { plugin: [] as Measured[], kubectl: [] as Measured[] };
    for (let run = 0; run < runs + 1; run++) {
      const p = measure(plugin[0], [...plugin[1]], env);
      const k = measure(kubectl[0], [...kubectl[1]], env);
      if (run > 0) {
        samples.plugin.push(p);
        samples.kubectl.push(k);
      }
    }
    const requests = spawnSync(plugin[0], [...plugin[1], '-v', '6'], {
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    })
      .stderr.split('\n')
      .filter((line) => /^GET https:/.test(line)).length;
    const report = JSON.parse(
      spawnSync(plugin[0], [...plugin[1]], { env, encoding: 'utf8', maxBuffer: 1 << 30 }).stdout,
    );
    const pluginWall = median(samples.plugin.map((s) => s.wallMs));
    const kubectlWall = median(samples.kubectl.map((s) => s.wallMs));
    const pluginRss = median(samples.plugin.map((s) => s.maxRssKb));
    const kubectlRss = median(samples.kubectl.map((s) => s.maxRssKb));
    process.stdout.write(
      [
        `databases: ${count} in ${namespaces} namespaces (${report.databases.length} reported, ${report.summary.ok} OK); medians of ${runs} runs`,
        `plugin  tls status -A -o json : ${pluginWall.toFixed(0)} ms, ${(pluginRss / 1024).toFixed(0)} MiB max RSS, ${requests} API requests`,
        `kubectl get ... -A -o json    : ${kubectlWall.toFixed(0)} ms, ${(kubectlRss / 1024).toFixed(0)} MiB max RSS, 4 API requests`,
        `ratio plugin/kubectl          : wall x${(pluginWall / kubectlWall).toFixed(2)}, memory x${(pluginRss / kubectlRss).toFixed(2)}`,
        '',
      ].join('\n'),
    );
  } finally {
    cluster('down');
  }
}

await main();
