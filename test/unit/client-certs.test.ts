/** Client certificates: user names, derived names, the Certificate, the files, connect-info, status. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { validateOrganization, validateUser } from '../../src/cli/validate.ts';
import { clientCertOptions } from '../../src/commands/tls/client-cert/command.ts';
import { connectInfoOptions } from '../../src/commands/tls/connect-info/command.ts';
import {
  connectInfo,
  renderConnectInfo,
  sqlString,
} from '../../src/commands/tls/connect-info/connect-info.ts';
import { ExitCode, UsageError } from '../../src/errors.ts';
import type { Certificate, Singlestore } from '../../src/kubedb/types.ts';
import {
  checkWritableFolder,
  FileRefusal,
  planFiles,
  writeFilesAtomically,
} from '../../src/tls/cert-files.ts';
import {
  clientCertificate,
  clientCertificateLabels,
  clientCertificateName,
  subjectOneLine,
  userAnnotation,
} from '../../src/tls/client-certs.ts';
import { diagnose } from '../../src/tls/diagnose.ts';
import { renderers } from '../../src/tls/render.ts';
import { ca, day, healthySnapshot, leaf, namespace, now, secretOf } from '../support/snapshot.ts';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

test('user names: SingleStore limit of 32 characters, a safe character set', () => {
  for (const ok of ['app', 'a_b', 'a-b', 'A.b-1', 'x'.repeat(32)]) assert.equal(validateUser(ok), ok);
  for (const bad of ['', 'x'.repeat(33), 'a b', "a'b", 'a/b', 'a=b', 'ü', 'a@b', 'a\\b']) {
    assert.throws(() => validateUser(bad), UsageError, bad);
  }
  assert.throws(() => validateOrganization('acme/evil'), UsageError);
  assert.throws(() => validateOrganization(' acme'), UsageError);
  assert.equal(validateOrganization('Acme Corp.'), 'Acme Corp.');
});

test('derived names are valid, at most 63 characters, and distinct for distinct users', () => {
  const users = ['a_b', 'a-b', 'A-b', 'a.b', 'ab', '___', '-', 'x'.repeat(32), `${'x'.repeat(31)}y`];
  const names = users.map((user) => clientCertificateName('sdb', user));
  assert.equal(new Set(names).size, users.length);
  for (const name of names) {
    assert.match(name, dns1123Label);
    assert.ok(name.length <= 63);
  }
  assert.match(clientCertificateName('sdb', 'a_b'), /^sdb-user-a-b-[0-9a-f]{8}$/);
  assert.match(clientCertificateName('sdb', '___'), /^sdb-user-[0-9a-f]{8}$/);
  const long = clientCertificateName('d'.repeat(63), 'x'.repeat(32));
  assert.equal(long.length, 63);
  assert.match(long, dns1123Label);
  // The same user of two databases whose shortened names coincide still gets two names.
  assert.notEqual(
    clientCertificateName(`${'d'.repeat(60)}1`, 'app'),
    clientCertificateName(`${'d'.repeat(60)}2`, 'app'),
  );
  assert.equal(clientCertificateName('sdb', 'app'), clientCertificateName('sdb', 'app'));
});

const database: Singlestore = {
  metadata: { name: 'sdb', namespace, uid: 'db-uid' },
  spec: { tls: { issuerRef: { apiGroup: 'cert-manager.io', kind: 'Issuer', name: 'sdb-issuer' } } },
};

test('the Certificate: CN=USER, client auth, the database issuer, labelled ours, owned by the database', () => {
  const certificate = clientCertificate({
    database,
    user: 'a_b',
    organizations: ['acme'],
    duration: '2160h',
  });
  assert.equal(certificate.metadata.name, clientCertificateName('sdb', 'a_b'));
  assert.equal(certificate.spec.secretName, certificate.metadata.name);
  assert.equal(certificate.spec.commonName, 'a_b');
  assert.deepEqual(certificate.spec.subject, { organizations: ['acme'] });
  assert.equal(certificate.spec.duration, '2160h');
  assert.ok((certificate.spec.usages as string[]).includes('client auth'));
  assert.ok(!(certificate.spec.usages as string[]).includes('server auth'));
  assert.deepEqual(certificate.spec.issuerRef, {
    name: 'sdb-issuer',
    kind: 'Issuer',
    group: 'cert-manager.io',
  });
  assert.deepEqual(certificate.metadata.labels, {
    'app.kubernetes.io/managed-by': 'kubectl-singlestore',
    'app.kubernetes.io/instance': 'sdb',
    'app.kubernetes.io/component': 'client-certificate',
  });
  assert.equal(certificate.metadata.annotations?.[userAnnotation], 'a_b');
  assert.deepEqual(certificate.metadata.ownerReferences?.[0], {
    apiVersion: 'kubedb.com/v1alpha2',
    kind: 'Singlestore',
    name: 'sdb',
    uid: 'db-uid',
    blockOwnerDeletion: true,
  });
  const plain = clientCertificate({ database, user: 'app', organizations: [] });
  assert.equal(plain.spec.subject, undefined);
  assert.equal(plain.spec.duration, undefined);
});

test('the subject REQUIRE SUBJECT compares: OpenSSL one-line form, O before CN', () => {
  assert.equal(subjectOneLine({ user: 'app', organizations: [] }), '/CN=app');
  assert.equal(subjectOneLine({ user: 'app', organizations: ['acme', 'ops'] }), '/O=acme/O=ops/CN=app');
  assert.equal(subjectOneLine({ x509Subject: 'O=acme\nCN=app' }), '/O=acme/CN=app');
  const bob = new X509Certificate(leaf('client', { commonName: 'bob' }).pem);
  assert.equal(subjectOneLine({ x509Subject: bob.subject }), '/CN=bob');
});

test('file plan: new, unchanged, refreshed after renewal, refused, overwritten', () => {
  const first = leaf('client', { commonName: 'app' });
  const renewed = leaf('client', { commonName: 'app' });
  const other = leaf('client', { commonName: 'bob' });
  const files = (cert: typeof first) => [
    { name: 'ca.crt', content: ca.pem, mode: 0o644 },
    { name: 'tls.crt', content: cert.pem, mode: 0o644 },
    { name: 'tls.key', content: cert.keyPem, mode: 0o600 },
  ];
  const onDisk = (cert: typeof first) =>
    Object.fromEntries(files(cert).map((file) => [file.name, file.content]));
  const identity = { subject: 'CN=app' };
  const plan = (disk: Record<string, string | undefined>, overwrite = false) =>
    planFiles({ onDisk: disk, files: files(renewed), certificateFile: 'tls.crt', identity, overwrite });
  assert.deepEqual(plan({}), { action: 'write', why: 'new' });
  assert.deepEqual(plan(onDisk(renewed)), { action: 'unchanged' });
  assert.deepEqual(plan(onDisk(first)), { action: 'write', why: 'refresh' });
  const refused = plan(onDisk(other));
  assert.equal(refused.action, 'refuse');
  assert.match((refused as { reason: string }).reason, /CN=bob.*--overwrite/);
  assert.equal(plan({ 'tls.key': 'not mine' }).action, 'refuse');
  assert.deepEqual(plan(onDisk(other), true), { action: 'write', why: 'overwrite' });
});

test('files are written through a rename, the key with mode 0600; unwritable places are refused first', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'client-cert-'));
  const out = path.join(dir, 'certs');
  checkWritableFolder(out);
  writeFilesAtomically(out, [
    { name: 'tls.crt', content: 'cert', mode: 0o644 },
    { name: 'tls.key', content: 'key', mode: 0o600 },
  ]);
  assert.deepEqual(readdirSync(out).sort(), ['tls.crt', 'tls.key']);
  assert.equal(statSync(path.join(out, 'tls.key')).mode & 0o777, 0o600);
  assert.equal(readFileSync(path.join(out, 'tls.key'), 'utf8'), 'key');
  const file = path.join(dir, 'a-file');
  writeFileSync(file, 'x');
  assert.throws(
    () => checkWritableFolder(file),
    (error: unknown) => error instanceof FileRefusal && /not a folder/.test(String(error)),
  );
  assert.throws(() => checkWritableFolder(path.join(file, 'sub')), FileRefusal);
  assert.equal(new FileRefusal('x').exitCode, ExitCode.runtime);
});

test('client-cert options: one mode at a time, a place for the files, valid values', () => {
  const base = { name: 'sdb', 'dry-run': 'none' };
  assert.throws(() => clientCertOptions({ ...base }, false), /--db-user is required/);
  assert.throws(() => clientCertOptions({ ...base, 'db-user': 'app' }, false), /--out DIR.*--secret-only/);
  assert.throws(
    () => clientCertOptions({ ...base, 'db-user': 'app', out: 'd', 'secret-only': true }, false),
    /cannot be combined/,
  );
  assert.throws(() => clientCertOptions({ ...base, list: true, delete: 'app' }, false), /cannot be combined/);
  assert.throws(
    () => clientCertOptions({ ...base, 'db-user': 'a b', out: 'd' }, false),
    /invalid database user/,
  );
  assert.throws(
    () => clientCertOptions({ ...base, 'db-user': 'app', out: 'd', duration: '30m' }, false),
    /at least 1h/,
  );
  assert.throws(
    () => clientCertOptions({ ...base, 'db-user': 'app', out: 'd', duration: 'soon' }, false),
    /--duration/,
  );
  const options = clientCertOptions(
    { ...base, 'db-user': 'app', out: 'd', 'subject-organization': ['acme'], duration: '720h' },
    false,
  );
  assert.deepEqual(options.action, {
    kind: 'issue',
    user: 'app',
    organizations: ['acme'],
    duration: '720h',
    out: 'd',
    overwrite: false,
    dryRun: 'none',
    timeoutMs: 120_000,
    progress: 'plain',
  });
  assert.deepEqual(clientCertOptions({ ...base, list: true, output: 'json' }, false).action, {
    kind: 'list',
    output: 'json',
  });
  assert.deepEqual(clientCertOptions({ ...base, delete: 'app' }, false).action, {
    kind: 'delete',
    user: 'app',
    dryRun: 'none',
  });
  assert.throws(() => connectInfoOptions({ name: 'sdb', 'local-port': 70000 }), /--local-port/);
  assert.throws(() => connectInfoOptions({ name: 'sdb', 'db-user': 'x'.repeat(33) }), /32 characters/);
});

const schema = (file: string) =>
  new Ajv({ strict: false, formats: { 'date-time': true } }).compile(
    JSON.parse(readFileSync(new URL(`../../src/commands/tls/${file}`, import.meta.url), 'utf8')),
  );

test('connect-info: verifying command lines, port-forward recipe, drivers, SQL printed for an admin', () => {
  const info = connectInfo({
    namespace: 'demo',
    name: 'sdb',
    user: 'app',
    subject: { text: '/O=acme/CN=app', fromCertificate: true },
    dir: 'certs',
    localPort: 13306,
    commandName: 'kubectl singlestore',
  });
  assert.equal(
    info.inCluster.mariadb,
    'mariadb --protocol=TCP -h sdb.demo.svc -P 3306 -u app --ssl-verify-server-cert --ssl-ca=certs/ca.crt --ssl-cert=certs/tls.crt --ssl-key=certs/tls.key',
  );
  assert.match(
    info.inCluster.mysql,
    /^mysql .* --ssl-mode=VERIFY_IDENTITY --ssl-ca=certs\/ca.crt --ssl-cert=certs\/tls.crt --ssl-key=certs\/tls.key$/,
  );
  assert.equal(info.fromLaptop.portForward, 'kubectl port-forward -n demo svc/sdb 13306:3306');
  assert.match(info.fromLaptop.mariadb, /--protocol=TCP -h localhost -P 13306 /);
  assert.deepEqual(info.sql, {
    requireX509: ["CREATE USER 'app'@'%' REQUIRE X509;", "ALTER USER 'app'@'%' REQUIRE X509;"],
    requireSubject: [
      "CREATE USER 'app'@'%' REQUIRE SUBJECT '/O=acme/CN=app';",
      "ALTER USER 'app'@'%' REQUIRE SUBJECT '/O=acme/CN=app';",
    ],
  });
  assert.match(info.drivers.go, /RegisterTLSConfig\("singlestore".*ServerName: "sdb.demo.svc"/s);
  assert.match(info.drivers.python, /ssl_verify_identity=True/);
  assert.match(info.drivers.jdbc, /sslMode=verify-full&serverSslCert=certs\/ca.crt/);
  assert.match(info.drivers.jdbc, /openssl pkcs12 -export/);
  const validate = schema('connect-info/connect-info.schema.json');
  assert.ok(validate(info), JSON.stringify(validate.errors));
  const text = renderConnectInfo(info);
  assert.match(text, /printed, not run/);
  assert.doesNotMatch(text, /PRIVATE KEY/);

  const serverOnly = connectInfo({
    namespace: 'demo',
    name: 'sdb',
    dir: '.',
    localPort: 3306,
    commandName: 'k',
  });
  assert.equal(serverOnly.files.cert, undefined);
  assert.doesNotMatch(serverOnly.inCluster.mariadb, /--ssl-cert/);
  assert.deepEqual(serverOnly.sql, { requireX509: [], requireSubject: [] });
  assert.ok(validate(serverOnly), JSON.stringify(validate.errors));
  assert.equal(sqlString("o'neil\\"), "'o\\'neil\\\\'");
  assert.match(
    connectInfo({
      namespace: 'demo',
      name: 'sdb',
      user: 'app',
      dir: 'my certs',
      localPort: 1,
      commandName: 'k',
    }).inCluster.mariadb,
    /--ssl-ca='my certs\/ca.crt'/,
  );
});

test('the client-cert list schema accepts a list and rejects a malformed one', () => {
  const validate = schema('client-cert/list.schema.json');
  const list = {
    apiVersion: 'singlestore.tls.kubedb.com/v1',
    kind: 'ClientCertificateList',
    namespace: 'demo',
    database: 'sdb',
    items: [
      {
        user: 'app',
        certificate: 'sdb-user-app-12345678',
        secret: 'sdb-user-app-12345678',
        ready: true,
        notAfter: '2027-01-01T00:00:00Z',
      },
    ],
  };
  assert.ok(validate(list), JSON.stringify(validate.errors));
  assert.ok(!validate({ ...list, items: [{ user: 'app' }] }));
});

test("tls status: client certificates beside KubeDB's own, with the same x509 checks", () => {
  const snapshot = healthySnapshot();
  const certificates = (snapshot.certificates as { items: Certificate[] }).items;
  const secrets = (snapshot.secrets as { items: ReturnType<typeof secretOf>[] }).items;
  const add = (user: string, cert: ReturnType<typeof leaf>, ready = true) => {
    const made = clientCertificate({
      database: { ...database, metadata: { ...database.metadata, name: 'sdb' } },
      user,
      organizations: [],
    });
    made.status = { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', message: 'Issuing' }] };
    certificates.push(made);
    secrets.push(
      secretOf(made.spec.secretName, { 'tls.crt': cert.pem, 'tls.key': cert.keyPem, 'ca.crt': ca.pem }),
    );
  };
  add('app', leaf('client', { commonName: 'app' }));
  // Signed by another CA: the same "not signed by ca.crt" check as for KubeDB's certificates.
  const otherCa = leaf('client', { commonName: 'other-ca', isCA: true, issuer: undefined });
  add(
    'bob',
    leaf('client', { commonName: 'bob', issuer: otherCa, notAfter: new Date(now.getTime() + 5 * day) }),
  );
  const report = diagnose(snapshot, {
    now,
    warnWithinMs: 30 * day,
    requireTls: false,
    commandName: 'kubectl singlestore',
  });
  const db = report.databases[0];
  assert.ok(db);
  assert.deepEqual(
    db.clientCertificates?.map((client) => [
      client.user,
      client.ready,
      client.secret.certificate?.signedByCa,
    ]),
    [
      ['app', true, 'signed'],
      ['bob', true, 'not-signed'],
    ],
  );
  assert.equal(db.health, 'CRITICAL');
  const bob = db.findings.filter((finding) => finding.object.includes(clientCertificateName('sdb', 'bob')));
  assert.ok(bob.some((finding) => /not signed by the CA/.test(finding.message)));
  assert.ok(bob.some((finding) => /expires in 5 day/.test(finding.message)));
  assert.ok(bob.every((finding) => !finding.hint?.includes('tls rotate')));
  const text = renderers.detail(report);
  assert.match(
    text,
    /Client certificates \(tls client-cert\):\n {2}user app: Certificate sdb-user-app-\w+, Ready; CN=app/,
  );
  const reportSchema = new Ajv({ strict: false, formats: { 'date-time': true } }).compile(
    JSON.parse(readFileSync(new URL('../../src/tls/report.schema.json', import.meta.url), 'utf8')),
  );
  assert.ok(reportSchema(JSON.parse(renderers.json(report))), JSON.stringify(reportSchema.errors));
  // Certificates of other databases or other tools are not listed.
  assert.deepEqual(clientCertificateLabels('other')['app.kubernetes.io/instance'], 'other');
  const healthy = diagnose(healthySnapshot(), {
    now,
    warnWithinMs: 30 * day,
    requireTls: false,
    commandName: 'k',
  });
  assert.equal(healthy.databases[0]?.clientCertificates, undefined);
});
