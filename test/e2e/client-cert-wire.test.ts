/**
 * Client certificates on the test bed, whose pods run real MariaDB servers: the SQL `tls connect-info`
 * prints is run as-is on a pod's server, then the certificate `tls client-cert` wrote is used by
 * Debian's `mariadb` client through `kubectl port-forward` with --ssl-verify-server-cert (the command
 * line connect-info printed); another CA's certificate or another subject is refused; after
 * `tls rotate` of the database the client certificate still logs in.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import yaml from 'js-yaml';
import type { ConnectInfo } from '../../src/commands/tls/connect-info/connect-info.ts';
import { ExitCode } from '../../src/errors.ts';
import { forgeCertificate } from '../support/x509-forge.ts';
import {
  kubeconfig,
  mariadbLogin,
  namespaceWithIssuer,
  type PortForward,
  podSql,
  podsReady,
  portForward,
  runPlugin,
  runTool,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const ns = 'client-wire-e2e';
const work = mkdtempSync(path.join(tmpdir(), 'client-wire-e2e-'));
const plugin = (args: string[], timeoutMs?: number) =>
  runPlugin([...args, '-n', ns, '--context', 'admin'], timeoutMs ? { timeoutMs } : {});
const files = (user: string) => ({
  ca: path.join(work, user, 'ca.crt'),
  cert: path.join(work, user, 'tls.crt'),
  key: path.join(work, user, 'tls.key'),
});

async function connectInfo(user: string): Promise<ConnectInfo> {
  const result = await plugin([
    'tls',
    'connect-info',
    'cw',
    '--db-user',
    user,
    '--out',
    path.join(work, user),
    '-o',
    'json',
  ]);
  assert.equal(result.code, ExitCode.ok, result.stderr);
  return JSON.parse(result.stdout) as ConnectInfo;
}

/** A printed command line, run as it is (its words split on spaces: no word here holds one). */
function runPrinted(line: string, extra: string[]): ReturnType<typeof runTool> {
  const [program, ...args] = line.split(' ');
  // --no-defaults must come first: the machine's my.cnf plays no part in what is proven.
  return runTool(program ?? '', ['--no-defaults', ...args, ...extra]);
}

describe('client certificates on pods that really serve TLS', { skip: skipReason }, () => {
  let forward: PortForward;

  before(async () => {
    await namespaceWithIssuer(ns);
    const db = yaml.load(singlestoreYaml('cw', ns, { issuer: 'sdb-issuer' })) as {
      metadata: { annotations?: Record<string, string> };
    };
    // Users every pod's server creates when it starts (so they are there again after a restart).
    db.metadata.annotations = {
      'standin.kubectl-singlestore.test/x509-users': JSON.stringify([
        { user: 'carol', require: 'SUBJECT', subject: '/CN=carol' },
      ]),
    };
    const { kubectlApply } = await import('./harness.ts');
    kubectlApply(yaml.dump(db));
    await podsReady(ns, 'cw', 2);
    for (const [user, extra] of [
      ['app', []],
      ['bob', ['--subject-organization', 'acme']],
      ['carol', []],
    ] as const) {
      const result = await plugin(
        [
          'tls',
          'client-cert',
          'cw',
          '--db-user',
          user,
          '--out',
          path.join(work, user),
          '--progress=plain',
          ...extra,
        ],
        120_000,
      );
      assert.equal(result.code, ExitCode.ok, result.stdout + result.stderr);
    }
    forward = await portForward(ns, 'cw-aggregator-0');
  });

  after(async () => {
    await forward?.close();
  });

  test('the SQL connect-info prints runs as-is; the client certificate logs in with the server verified', async () => {
    const app = await connectInfo('app');
    const bob = await connectInfo('bob');
    assert.equal(bob.subject, '/O=acme/CN=bob');
    // CREATE for new users, exactly as printed: REQUIRE X509 for app, REQUIRE SUBJECT for bob.
    // SingleStore keeps users cluster-wide; each stand-in pod has a server of its own: run it on each.
    for (const pod of ['cw-aggregator-0', 'cw-leaf-0']) await podSql(ns, pod, app.sql.requireX509[0] ?? '');
    await podSql(ns, 'cw-aggregator-0', bob.sql.requireSubject[0] ?? '');
    assert.match(
      await podSql(ns, 'cw-aggregator-0', "SHOW GRANTS FOR 'bob'@'%'"),
      /REQUIRE SUBJECT '\/O=acme\/CN=bob'/,
    );

    const login = (user: string, from: ReturnType<typeof files>) =>
      mariadbLogin({ port: forward.port, user, ...from, verifyServer: true });
    const asApp = await login('app', files('app'));
    assert.equal(asApp.code, 0, asApp.stderr);
    assert.equal(asApp.stdout.trim(), 'app@%');
    const asBob = await login('bob', files('bob'));
    assert.equal(asBob.code, 0, asBob.stderr);
    assert.equal(asBob.stdout.trim(), 'bob@%');

    // Another subject: app's certificate (/CN=app) for bob, who requires /O=acme/CN=bob.
    const wrongSubject = await login('bob', {
      ...files('bob'),
      cert: files('app').cert,
      key: files('app').key,
    });
    assert.notEqual(wrongSubject.code, 0);
    assert.match(wrongSubject.stderr, /ERROR 1045|Access denied/);
    // No certificate at all: REQUIRE X509 refuses.
    const noCertificate = await mariadbLogin({
      port: forward.port,
      user: 'app',
      ca: files('app').ca,
      verifyServer: true,
    });
    assert.notEqual(noCertificate.code, 0);
    // Another CA's certificate with the right name.
    const otherCa = forgeCertificate({
      commonName: 'other-ca',
      notBefore: new Date(Date.now() - 3_600_000),
      notAfter: new Date(Date.now() + 86_400_000),
      isCA: true,
    });
    const forged = forgeCertificate({
      commonName: 'app',
      notBefore: new Date(Date.now() - 3_600_000),
      notAfter: new Date(Date.now() + 86_400_000),
      issuer: otherCa,
    });
    const other = path.join(work, 'other');
    (await import('node:fs')).mkdirSync(other);
    writeFileSync(path.join(other, 'tls.crt'), forged.pem);
    writeFileSync(path.join(other, 'tls.key'), forged.keyPem, { mode: 0o600 });
    const foreign = await login('app', {
      ...files('app'),
      cert: path.join(other, 'tls.crt'),
      key: path.join(other, 'tls.key'),
    });
    assert.notEqual(foreign.code, 0, 'a certificate from another CA is refused');
  });

  test('the printed port-forward recipe and mariadb command line work as printed', async () => {
    const port = 43000 + (process.pid % 2000);
    const result = await plugin([
      'tls',
      'connect-info',
      'cw',
      '--db-user',
      'app',
      '--out',
      path.join(work, 'app'),
      '--local-port',
      String(port),
      '-o',
      'json',
    ]);
    const info = JSON.parse(result.stdout) as ConnectInfo;
    const [program, ...args] = info.fromLaptop.portForward.split(' ');
    const child = spawn(program ?? 'kubectl', [...args, '--context', 'admin', '--address', '127.0.0.1'], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('port-forward not ready')), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('Forwarding from')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', () => reject(new Error('port-forward exited')));
      });
      const login = await runPrinted(info.fromLaptop.mariadb, [
        '--batch',
        '--skip-column-names',
        '-e',
        'SELECT CURRENT_USER()',
      ]);
      assert.equal(login.code, 0, login.stderr);
      assert.equal(login.stdout.trim(), 'app@%');
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('after tls rotate of the database the client certificate still logs in', async () => {
    const rotated = await plugin(['tls', 'rotate', 'cw', '--progress=plain'], 300_000);
    assert.equal(rotated.code, ExitCode.ok, rotated.stdout + rotated.stderr);
    await podsReady(ns, 'cw', 2);
    // A new pod, a new server: a new port-forward. carol comes from the pod's start-up users.
    const fresh = await portForward(ns, 'cw-aggregator-0');
    try {
      const asCarol = await mariadbLogin({
        port: fresh.port,
        user: 'carol',
        ...files('carol'),
        verifyServer: true,
      });
      assert.equal(asCarol.code, 0, asCarol.stderr);
      assert.equal(asCarol.stdout.trim(), 'carol@%');
    } finally {
      await fresh.close();
    }
  });
});
