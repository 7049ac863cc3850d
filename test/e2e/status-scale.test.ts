/**
 * `tls status` costs what the selected databases cost, not what the cluster holds, counted on the
 * `-v 6` request log: one database makes the same requests in an empty and in a noisy namespace
 * (unrelated TLS Secrets and Certificates), and -A makes one paged LIST per kind, the same for a few
 * and for hundreds of databases. The many databases are Singlestores without TLS that the stand-in
 * leaves alone, created straight through the API, so the test stays fast.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Resources } from '../../src/kube/resources.ts';
import type { Singlestore } from '../../src/kubedb/types.ts';
import { forgeCertificate } from '../support/x509-forge.ts';
import {
  adminClient,
  certificatesReady,
  kubectl,
  kubectlApply,
  namespaceWithIssuer,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const quiet = 'scale-quiet';
const noisy = 'scale-noisy';
const many = 'scale-many';
const noise = 40;
const client = adminClient();

/** The API requests of one run, from its `-v 6` log: method, path and query. */
function requestsOf(stderr: string): { path: string; query: URLSearchParams }[] {
  return stderr
    .split('\n')
    .map((line) => /^(GET|POST|PATCH|PUT|DELETE) (https?:\S+) \d{3}/.exec(line)?.[2])
    .filter((url): url is string => url !== undefined)
    .map((url) => {
      const parsed = new URL(url);
      return { path: parsed.pathname, query: parsed.searchParams };
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

/** Singlestores without TLS that the stand-in does not provision. */
async function idleDatabases(from: number, to: number): Promise<void> {
  const names = Array.from({ length: to - from }, (_, i) => `idle-${from + i}`);
  await inParallel(names, 8, (name) =>
    client.create(Resources.singlestore, many, {
      apiVersion: 'kubedb.com/v1alpha2',
      kind: 'Singlestore',
      metadata: {
        name,
        namespace: many,
        annotations: { 'standin.kubectl-singlestore.test/ignore': 'true' },
      },
      spec: { version: '8.7.10', licenseSecret: { kind: 'Secret', name: 'license' } },
    } as Singlestore),
  );
}

describe('tls status: requests follow the databases, not the cluster', { skip: skipReason }, () => {
  before(async () => {
    await Promise.all([namespaceWithIssuer(quiet), namespaceWithIssuer(noisy)]);
    kubectlApply(
      [
        singlestoreYaml('db', quiet, { issuer: 'sdb-issuer' }),
        singlestoreYaml('db', noisy, { issuer: 'sdb-issuer' }),
        `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${many}}`,
      ].join('\n---\n'),
    );
    // Other applications' TLS: Secrets, and Certificates of an issuer group nothing here signs for.
    const now = Date.now();
    const unrelated = forgeCertificate({
      commonName: 'shop.example.com',
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 90 * 86_400_000),
      dnsNames: ['shop.example.com'],
    });
    const data = Object.fromEntries(
      Object.entries({ 'tls.crt': unrelated.pem, 'tls.key': unrelated.keyPem, 'ca.crt': unrelated.pem }).map(
        ([key, value]) => [key, Buffer.from(value).toString('base64')],
      ),
    );
    await inParallel(
      Array.from({ length: noise }, (_, i) => `app-${i}`),
      8,
      async (name) => {
        await client.create(Resources.secret, noisy, {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/tls',
          metadata: { name: `${name}-tls`, namespace: noisy },
          data,
        } as never);
        await client.create(Resources.certificate, noisy, {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Certificate',
          metadata: {
            name: `${name}-cert`,
            namespace: noisy,
            labels: { 'app.kubernetes.io/instance': name },
          },
          spec: {
            secretName: `${name}-cert`,
            dnsNames: [`${name}.example.com`],
            privateKey: { algorithm: 'ECDSA' },
            issuerRef: { group: 'issuers.example.com', kind: 'External', name: 'elsewhere' },
          },
        } as never);
      },
    );
    await Promise.all([certificatesReady(quiet, 'db'), certificatesReady(noisy, 'db')]);
  });

  after(() => {
    kubectl(['delete', 'namespace', many, '--wait=false']);
  });

  test('one database: the same requests in an empty and in a noisy namespace, each read by name or label', async () => {
    const run = async (namespace: string) => {
      const result = await runPlugin(['tls', 'status', 'db', '-n', namespace, '--probe=false', '-v', '6']);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      return requestsOf(result.stderr);
    };
    const inQuiet = await run(quiet);
    const inNoisy = await run(noisy);
    const shape = (requests: { path: string; query: URLSearchParams }[]) =>
      requests.map((request) => request.path.replace(/\/namespaces\/[^/]+/, '/namespaces/NS')).sort();
    assert.deepEqual(shape(inNoisy), shape(inQuiet));
    // Nothing lists a whole kind of the namespace but the ops requests (KubeDB's carry no label).
    for (const request of inNoisy) {
      const narrowed =
        request.query.has('fieldSelector') ||
        request.query.has('labelSelector') ||
        /\/secrets\/[^/]+$/.test(request.path) ||
        request.path.endsWith('/singlestoreopsrequests');
      assert.ok(narrowed, `${request.path}?${request.query}`);
    }
    process.stderr.write(`# tls status NAME: ${inNoisy.length} requests in both namespaces\n`);
  });

  test('-A: one LIST per kind and page (limit 500), the same for a few and for hundreds of databases', async () => {
    await idleDatabases(0, 10);
    const run = async () => {
      const result = await runPlugin(['tls', 'status', '-A', '-o', 'json', '--probe=false', '-v', '6'], {
        timeoutMs: 120_000,
      });
      assert.ok(result.code === 0 || result.code === 1, result.stderr);
      const requests = requestsOf(result.stderr);
      const lists = requests.filter((request) => request.query.has('limit'));
      for (const request of lists) assert.equal(request.query.get('limit'), '500', request.path);
      const firstPages = lists.filter((request) => !request.query.has('continue')).map((r) => r.path);
      assert.equal(new Set(firstPages).size, firstPages.length, `one LIST per kind: ${firstPages.join(' ')}`);
      // Besides the lists: one GET per CA Secret of the CA issuers in use.
      for (const request of requests.filter((r) => !r.query.has('limit')))
        assert.match(request.path, /\/secrets\/[^/]+$/);
      const databases = (await client.list(Resources.singlestore, {})).items.length;
      const singlestorePages = lists.filter((request) => request.path.endsWith('/singlestores')).length;
      assert.equal(singlestorePages, Math.ceil(databases / 500));
      return { lists: lists.length, requests: requests.length, databases };
    };
    const few = await run();
    await idleDatabases(10, 400);
    const hundreds = await run();
    assert.ok(hundreds.databases >= few.databases + 390);
    if (Math.ceil(hundreds.databases / 500) === Math.ceil(few.databases / 500))
      assert.equal(hundreds.lists, few.lists);
    process.stderr.write(
      `# tls status -A: ${few.requests} requests for ${few.databases} databases, ${hundreds.requests} for ${hundreds.databases}\n`,
    );
  });
});
