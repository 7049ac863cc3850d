/**
 * The test bed proves itself: every pod of a TLS database really serves the certificate its server
 * Secret held when the pod was created, through `kubectl port-forward` (API server -> kwok -> the
 * stand-in's MariaDB server), until the pod is deleted; logins with Debian's `mariadb` client are
 * checked the way a real server checks them; and each test switch of the stand-in does what
 * README.md ("The test bed") says.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import yaml from 'js-yaml';
import { Resources } from '../../src/kube/resources.ts';
import type { Certificate, Pod, Secret } from '../../src/kubedb/types.ts';
import {
  adminClient,
  eventually,
  kubectl,
  kubectlApply,
  mariadbLogin,
  mysqlGreeting,
  namespaceWithIssuer,
  type PortForward,
  podRuntimeDir,
  podSql,
  podsReady,
  portForward,
  repoRoot,
  type ServedCertificate,
  secretSerial,
  secretTlsFiles,
  servedCertificate,
  singlestoreYaml,
  skipReason,
  startTls,
  type TlsFiles,
  withPortForward,
} from './harness.ts';

const namespace = 'testbed';
const wire = 'standin.kubectl-singlestore.test/wire';
const serveSecret = 'standin.kubectl-singlestore.test/serve-secret';
const unrelatedCa = path.join(repoRoot, 'test', 'fixtures', 'unrelated-ca.crt');

/** A TLS database whose client certificate says O=acme, CN=root, with users that require certificates. */
function tlsDatabase(name: string): string {
  const db = yaml.load(singlestoreYaml(name, namespace, { issuer: 'sdb-issuer' })) as {
    metadata: { annotations?: Record<string, string> };
    spec: { tls: Record<string, unknown> };
  };
  db.metadata.annotations = {
    'standin.kubectl-singlestore.test/x509-users': JSON.stringify([
      { user: 'app', require: 'X509' },
      { user: 'bob', require: 'SUBJECT', subject: '/O=acme/CN=root' },
      { user: 'eve', require: 'SUBJECT', subject: '/CN=root/O=acme' },
    ]),
  };
  db.spec.tls.certificates = [{ alias: 'client', subject: { organizations: ['acme'] } }];
  return yaml.dump(db);
}

async function annotatePod(pod: string, key: string, value: string | undefined): Promise<void> {
  kubectl([
    '--context',
    'admin',
    '-n',
    namespace,
    'annotate',
    '--overwrite',
    `pod/${pod}`,
    `${key}${value === undefined ? '-' : `=${value}`}`,
  ]);
}

/** What the pod serves now, through a port-forward of its own (see withPortForward). */
function served(pod: string, args: string[] = []): Promise<ServedCertificate> {
  return withPortForward(namespace, pod, (port) => servedCertificate(port, args));
}

/** Waits until the pod serves the serial (the stand-in applies switches asynchronously). */
function serving(pod: string, serial: string, what: string): Promise<true> {
  return eventually(what, async () => (await served(pod)).serial === serial || undefined, 20_000);
}

describe('the test bed: pods that really serve TLS', { skip: skipReason }, () => {
  const client = adminClient();
  const forwards: PortForward[] = [];
  let files: TlsFiles;
  let clientFiles: TlsFiles;
  let forward: (pod: string) => Promise<PortForward>;

  before(async () => {
    await namespaceWithIssuer(namespace);
    kubectlApply(tlsDatabase('tb'));
    kubectlApply(singlestoreYaml('plain', namespace));
    await podsReady(namespace, 'tb', 2);
    files = await secretTlsFiles(namespace, 'tb-server-cert');
    clientFiles = await secretTlsFiles(namespace, 'tb-client-cert');
    forward = async (pod) => {
      const opened = await portForward(namespace, pod);
      forwards.push(opened);
      return opened;
    };
  });

  after(async () => {
    await Promise.all(forwards.map((opened) => opened.close()));
    for (const dir of [files?.dir, clientFiles?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every pod serves exactly the serial of <db>-server-cert, with a PortForward named after it', async () => {
    const serial = await secretSerial(namespace, 'tb-server-cert');
    const secret = await client.get<Secret>(Resources.secret, namespace, 'tb-server-cert');
    assert.equal(
      serial,
      new X509Certificate(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64')).serialNumber.toLowerCase(),
    );
    for (const pod of ['tb-aggregator-0', 'tb-leaf-0']) {
      const { port } = await forward(pod);
      const served = await servedCertificate(port);
      assert.equal(served.serial, serial, `${pod} serves the Secret's certificate`);
      const portForwardObject = await client.get(
        {
          group: 'kwok.x-k8s.io',
          version: 'v1alpha1',
          plural: 'portforwards',
          kind: 'PortForward',
          namespaced: true,
        },
        namespace,
        pod,
      );
      assert.equal(
        (portForwardObject as { spec?: { forwards?: { ports?: number[] }[] } }).spec?.forwards?.[0]
          ?.ports?.[0],
        3306,
      );
      assert.match(await podSql(namespace, pod, 'SELECT 1'), /^1$/m);
    }
  });

  test('mariadb logins: REQUIRE X509 and REQUIRE SUBJECT are enforced, the server is verified by its CA', async () => {
    const { port } = await forward('tb-aggregator-0');
    const withCa = { port, ca: files.ca, verifyServer: true };
    const withClient = { ...withCa, cert: clientFiles.cert, key: clientFiles.key };

    const noCertificate = await mariadbLogin({ ...withCa, user: 'app' });
    assert.notEqual(noCertificate.code, 0);
    assert.match(noCertificate.stderr, /ERROR 1045|Access denied/);

    const x509 = await mariadbLogin({ ...withClient, user: 'app' });
    assert.equal(x509.code, 0, x509.stderr);
    assert.equal(x509.stdout.trim(), 'app@%');

    // MariaDB compares X509_NAME_oneline() of the client certificate: "/"-separated, in the
    // certificate's own order (cert-manager writes O before CN), the whole string.
    const subject = await mariadbLogin({ ...withClient, user: 'bob' });
    assert.equal(subject.code, 0, subject.stderr);
    const wrongOrder = await mariadbLogin({ ...withClient, user: 'eve' });
    assert.notEqual(wrongOrder.code, 0);
    assert.match(wrongOrder.stderr, /ERROR 1045|Access denied/);

    const session = await mariadbLogin({ ...withClient, user: 'app', sql: "SHOW STATUS LIKE 'Ssl_version'" });
    assert.match(session.stdout, /Ssl_version\s+TLSv1\.3/);

    const unrelated = await mariadbLogin({ ...withClient, ca: unrelatedCa, user: 'app' });
    assert.notEqual(unrelated.code, 0);
    assert.match(unrelated.stderr, /certificate|SSL|TLS/i);
  });

  test('probes that hand-shake and hang up do not get 127.0.0.1 blocked', async () => {
    const { port } = await forward('tb-leaf-0');
    for (let i = 0; i < 12; i++) await servedCertificate(port);
    const aborted = Number(
      (await podSql(namespace, 'tb-leaf-0', "SHOW GLOBAL STATUS LIKE 'Aborted_connects'")).split('\t')[1],
    );
    assert.ok(aborted >= 12, `Aborted_connects ${aborted}`);
    const login = await mariadbLogin({
      port,
      user: 'app',
      ca: files.ca,
      cert: clientFiles.cert,
      key: clientFiles.key,
    });
    assert.equal(login.code, 0, login.stderr);
  });

  test('a renewed certificate reaches the wire only when the pod is re-created; serve-secret pins the old one', async () => {
    const oldSerial = await secretSerial(namespace, 'tb-server-cert');
    const old = await client.get<Secret>(Resources.secret, namespace, 'tb-server-cert');
    kubectlApply(
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'tb-old-server', namespace },
        type: 'kubernetes.io/tls',
        data: old.data,
      }),
    );
    // What `cmctl renew` and the plugin's rotate do: Issuing=True, reason ManuallyTriggered.
    const certificate = await client.get<Certificate>(Resources.certificate, namespace, 'tb-server-cert');
    const conditions = (certificate.status?.conditions ?? []).filter((c) => c.type !== 'Issuing');
    await client.patch(
      Resources.certificate,
      { namespace, name: 'tb-server-cert' },
      {
        status: {
          conditions: [
            ...conditions,
            {
              type: 'Issuing',
              status: 'True',
              reason: 'ManuallyTriggered',
              message: 'renewal requested by the test bed test',
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      },
      { subresource: 'status' },
    );
    const newSerial = await eventually('a renewed server certificate', async () => {
      const serial = await secretSerial(namespace, 'tb-server-cert');
      return serial !== oldSerial ? serial : undefined;
    });

    assert.equal((await served('tb-aggregator-0')).serial, oldSerial, 'not restarted: old certificate');
    assert.equal((await served('tb-leaf-0')).serial, oldSerial);

    const before = await client.get<Pod>(Resources.pod, namespace, 'tb-leaf-0');
    kubectl(['--context', 'admin', '-n', namespace, 'delete', 'pod', 'tb-leaf-0', '--wait=false']);
    const pods = await eventually('tb-leaf-0 re-created and Ready', async () => {
      const ready = await podsReady(namespace, 'tb', 2);
      return ready.some(
        (pod) => pod.metadata.name === 'tb-leaf-0' && pod.metadata.uid !== before.metadata.uid,
      )
        ? ready
        : undefined;
    });
    const recreated = pods.find((pod) => pod.metadata.name === 'tb-leaf-0') as Pod;
    assert.equal((await served('tb-leaf-0')).serial, newSerial, 're-created pod: new certificate');
    assert.equal((await served('tb-aggregator-0')).serial, oldSerial, 'the other pod: still old');

    // serve-secret: the pod started after issuance, yet serves the old certificate.
    await annotatePod('tb-leaf-0', serveSecret, 'tb-old-server');
    await serving('tb-leaf-0', oldSerial, 'tb-leaf-0 pinned to the old certificate');
    const pinned = await client.get<Pod>(Resources.pod, namespace, 'tb-leaf-0');
    assert.equal(pinned.metadata.uid, recreated.metadata.uid);
    assert.equal(pinned.status?.startTime, recreated.status?.startTime);
    await annotatePod('tb-leaf-0', serveSecret, undefined);
    await serving('tb-leaf-0', newSerial, 'tb-leaf-0 back to the files copied at its creation');
  });

  test('wire switches: blackhole, refused, no-tls, bad-tls, legacy-tls, and back', async () => {
    const pod = 'tb-aggregator-0';
    const normal = (await served(pod)).serial;
    const legacyArgs = ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'];

    await annotatePod(pod, wire, 'blackhole');
    await eventually('a port that never answers', async () => {
      const result = await withPortForward(namespace, pod, (port) => startTls(port, [], 3000));
      return result.timedOut || undefined;
    });
    await withPortForward(namespace, pod, (port) => assert.rejects(mysqlGreeting(port, 1500), /no greeting/));

    await annotatePod(pod, wire, 'refused');
    await eventually('connection refused behind the port-forward', () =>
      withPortForward(namespace, pod, async (port, forward) => {
        await mysqlGreeting(port, 3000).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 200));
        return /refused/i.test(forward.stderr()) || undefined;
      }),
    );

    await annotatePod(pod, wire, 'no-tls');
    const plain = await eventually('a greeting without TLS', async () => {
      const greeting = await withPortForward(namespace, pod, (port) => mysqlGreeting(port));
      return greeting.ssl ? undefined : greeting;
    });
    assert.match(plain.serverVersion, /MariaDB/);
    await assert.rejects(served(pod), /no certificate/);

    await annotatePod(pod, wire, 'bad-tls');
    await eventually('a greeting offering TLS from the fake server', async () => {
      const greeting = await withPortForward(namespace, pod, (port) => mysqlGreeting(port));
      return (greeting.ssl && greeting.serverVersion.includes('fake-wire')) || undefined;
    });
    const broken = await withPortForward(namespace, pod, (port) => startTls(port));
    assert.notEqual(broken.code, 0);
    assert.ok(!broken.timedOut, 'the failed handshake ends');
    assert.doesNotMatch(broken.stdout, /BEGIN CERTIFICATE/);

    // A normal pod refuses TLS 1.1; legacy-tls accepts it (OpenSSL security level 0 on both ends).
    await annotatePod(pod, wire, 'legacy-tls');
    const legacy = await eventually('TLS 1.1 accepted', async () => {
      const certificate = await served(pod, legacyArgs);
      return certificate.protocol === 'TLSv1.1' ? certificate : undefined;
    });
    assert.equal(legacy.serial, normal, "legacy-tls serves the pod's own certificate");

    await annotatePod(pod, wire, undefined);
    await serving(pod, normal, 'the normal server back');
    const refused = await withPortForward(namespace, pod, (port) => startTls(port, legacyArgs));
    assert.notEqual(refused.code, 0, 'TLS 1.1 refused again');
  });

  test('a database without TLS serves no TLS', async () => {
    const [pod] = await podsReady(namespace, 'plain', 2);
    const { port } = await forward(pod?.metadata.name as string);
    const greeting = await mysqlGreeting(port);
    assert.equal(greeting.ssl, false);
    await assert.rejects(servedCertificate(port), /no certificate/);
    assert.match(
      await podSql(namespace, pod?.metadata.name as string, "SHOW VARIABLES LIKE 'have_ssl'"),
      /DISABLED|NO/,
    );
  });

  test('per-pod runtime dirs hold the socket and the files copied at creation', async () => {
    const dir = podRuntimeDir(namespace, 'tb-aggregator-0');
    const copied = new X509Certificate(readFileSync(path.join(dir, 'tls.crt')));
    assert.equal(copied.serialNumber.toLowerCase(), (await served('tb-aggregator-0')).serial);
  });
});
