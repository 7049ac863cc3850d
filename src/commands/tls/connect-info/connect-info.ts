/**
 * `tls connect-info`: settings that verify the server, ready to paste. Gather (the database, the CA
 * bundle, the user's client certificate) -> a pure view model (`connectInfo`) -> text or JSON/YAML.
 * The SQL that makes the server require the certificate is printed for an admin, never executed: the
 * plugin holds no database password.
 */
import path from 'node:path';
import { ExitCode } from '../../../errors.ts';
import { Resources } from '../../../kube/resources.ts';
import type { Certificate, Secret } from '../../../kubedb/types.ts';
import { type DataFormat, renderData } from '../../../output/formats.ts';
import {
  certificateIdentity,
  checkWritableFolder,
  FileRefusal,
  type OutputFile,
  syncFiles,
} from '../../../tls/cert-files.ts';
import { clientCertificateName, subjectOneLine } from '../../../tls/client-certs.ts';
import { decodeTls } from '../../../tls/wait.ts';
import type { ActionDeps } from '../action-deps.ts';
import { caBundle } from '../ca/ca.ts';
import { tlsDatabase } from '../database.ts';

export const connectInfoApiVersion = 'singlestore.tls.kubedb.com/v1';
export const databasePort = 3306;

export interface ConnectInfoOptions {
  name: string;
  namespace: string;
  user?: string;
  /** Write ca.crt (and the user's tls.crt, tls.key) here, and point the settings at it. */
  out?: string;
  overwrite: boolean;
  localPort: number;
  output?: DataFormat;
}

export interface ClientCommands {
  host: string;
  port: number;
  mariadb: string;
  mysql: string;
}

export interface ConnectInfo {
  apiVersion: typeof connectInfoApiVersion;
  kind: 'ConnectInfo';
  database: { namespace: string; name: string };
  user?: string;
  /** The subject REQUIRE SUBJECT compares, in OpenSSL's one-line form. */
  subject?: string;
  /** Whether `subject` was read from the issued certificate (else: what cert-manager will issue). */
  subjectFromCertificate?: boolean;
  files: { ca: string; cert?: string; key?: string };
  inCluster: ClientCommands;
  fromLaptop: ClientCommands & { portForward: string };
  drivers: { go: string; python: string; jdbc: string };
  /** For an admin to run; never run by the plugin. Empty without a user. */
  sql: { requireX509: string[]; requireSubject: string[] };
  notes: string[];
}

export interface ConnectInput {
  namespace: string;
  name: string;
  user?: string;
  subject?: { text: string; fromCertificate: boolean };
  dir: string;
  localPort: number;
  commandName: string;
}

/** A word for a POSIX shell, quoted only when it needs to be. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A SQL string literal (MySQL/SingleStore rules: backslash and quote escaped). */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The view model: pure, from the gathered facts. */
export function connectInfo(input: ConnectInput): ConnectInfo {
  const { namespace, name, user } = input;
  const file = (base: string) => (input.dir === '.' ? base : path.join(input.dir, base));
  const files = { ca: file('ca.crt'), ...(user ? { cert: file('tls.crt'), key: file('tls.key') } : {}) };
  const tlsFlags = [`--ssl-ca=${shellWord(files.ca)}`];
  if (files.cert && files.key)
    tlsFlags.push(`--ssl-cert=${shellWord(files.cert)}`, `--ssl-key=${shellWord(files.key)}`);
  const userFlag = user ? `-u ${shellWord(user)}` : '-u USER -p';
  const commands = (host: string, port: number): ClientCommands => ({
    host,
    port,
    mariadb: `mariadb --protocol=TCP -h ${host} -P ${port} ${userFlag} --ssl-verify-server-cert ${tlsFlags.join(' ')}`,
    mysql: `mysql --protocol=TCP -h ${host} -P ${port} ${userFlag} --ssl-mode=VERIFY_IDENTITY ${tlsFlags.join(' ')}`,
  });
  const serviceHost = `${name}.${namespace}.svc`;
  const goUser = user ?? 'USER:PASSWORD';
  const certLines = files.cert
    ? `\tpair, err := tls.LoadX509KeyPair(${JSON.stringify(files.cert)}, ${JSON.stringify(files.key)})\n\tif err != nil { panic(err) }\n`
    : '';
  const go =
    `// go-sql-driver/mysql: a tls.Config registered under a name, chosen with ?tls=NAME\n` +
    `\tpool := x509.NewCertPool()\n\tcaPEM, err := os.ReadFile(${JSON.stringify(files.ca)})\n\tif err != nil || !pool.AppendCertsFromPEM(caPEM) { panic("ca.crt") }\n` +
    certLines +
    `\terr = mysql.RegisterTLSConfig("singlestore", &tls.Config{RootCAs: pool, ServerName: ${JSON.stringify(serviceHost)}${files.cert ? ', Certificates: []tls.Certificate{pair}' : ''}})\n` +
    `\tdb, err := sql.Open("mysql", "${goUser}@tcp(${serviceHost}:${databasePort})/?tls=singlestore")`;
  const pythonSsl = files.cert
    ? `{"ca": ${JSON.stringify(files.ca)}, "cert": ${JSON.stringify(files.cert)}, "key": ${JSON.stringify(files.key)}}`
    : `{"ca": ${JSON.stringify(files.ca)}}`;
  const python =
    `# PyMySQL: verify the chain and the host name\n` +
    `conn = pymysql.connect(host=${JSON.stringify(serviceHost)}, port=${databasePort}, user=${JSON.stringify(user ?? 'USER')},\n` +
    `                       ssl=${pythonSsl}, ssl_verify_cert=True, ssl_verify_identity=True)`;
  const keystore = files.cert
    ? `# Java reads the key pair from a PKCS#12 keystore: make one from the PEM files\n` +
      `openssl pkcs12 -export -in ${shellWord(files.cert)} -inkey ${shellWord(files.key ?? '')} -out client.p12 -name ${shellWord(user ?? 'client')} -passout env:KEYSTORE_PASSWORD\n`
    : '';
  const jdbc =
    keystore +
    `# MariaDB Connector/J 3: verify-full checks the chain and the host name; serverSslCert takes the PEM CA\n` +
    `jdbc:mariadb://${serviceHost}:${databasePort}/?user=${user ?? 'USER'}&sslMode=verify-full&serverSslCert=${files.ca}` +
    (files.cert
      ? '&keyStore=file:client.p12&keyStoreType=PKCS12&keyStorePassword=<the KEYSTORE_PASSWORD above>'
      : '');
  const sql = { requireX509: [] as string[], requireSubject: [] as string[] };
  if (user) {
    const account = `${sqlString(user)}@'%'`;
    sql.requireX509.push(`CREATE USER ${account} REQUIRE X509;`, `ALTER USER ${account} REQUIRE X509;`);
    if (input.subject) {
      const subject = sqlString(input.subject.text);
      sql.requireSubject.push(
        `CREATE USER ${account} REQUIRE SUBJECT ${subject};`,
        `ALTER USER ${account} REQUIRE SUBJECT ${subject};`,
      );
    }
  }
  const notes: string[] = [];
  if (!user)
    notes.push(
      `these settings verify the server only; for a client certificate: ${input.commandName} tls client-cert ${name} -n ${namespace} --db-user USER --out DIR, then connect-info --db-user USER`,
    );
  if (input.subject && !input.subject.fromCertificate)
    notes.push(
      `the subject is what cert-manager will issue for this user; issue the certificate first (tls client-cert) to read it from the certificate itself`,
    );
  return {
    apiVersion: connectInfoApiVersion,
    kind: 'ConnectInfo',
    database: { namespace, name },
    ...(user ? { user } : {}),
    ...(input.subject
      ? { subject: input.subject.text, subjectFromCertificate: input.subject.fromCertificate }
      : {}),
    files,
    inCluster: commands(serviceHost, databasePort),
    fromLaptop: {
      ...commands('localhost', input.localPort),
      portForward: `kubectl port-forward -n ${namespace} svc/${name} ${input.localPort}:${databasePort}`,
    },
    drivers: { go, python, jdbc },
    sql,
    notes,
  };
}

export function renderConnectInfo(info: ConnectInfo): string {
  const lines: string[] = [];
  const { namespace, name } = info.database;
  lines.push(`# Connect to Singlestore ${namespace}/${name} with TLS, verifying the server certificate`);
  lines.push(`# Files: ${[info.files.ca, info.files.cert, info.files.key].filter(Boolean).join(', ')}`);
  lines.push('', '## From a pod in the cluster (host in the server certificate)');
  lines.push(info.inCluster.mariadb, info.inCluster.mysql);
  lines.push('', '## From a laptop, through the API server (localhost is in the server certificate)');
  lines.push(`${info.fromLaptop.portForward} &`, info.fromLaptop.mariadb, info.fromLaptop.mysql);
  lines.push(
    '',
    '## Go',
    info.drivers.go,
    '',
    '## Python',
    info.drivers.python,
    '',
    '## JDBC',
    info.drivers.jdbc,
  );
  if (info.user) {
    lines.push('', `## SQL for an admin (printed, not run): make "${info.user}" present its certificate`);
    lines.push('-- any certificate signed by the database CA:', ...info.sql.requireX509);
    if (info.sql.requireSubject.length)
      lines.push(`-- or exactly this subject (${info.subject}):`, ...info.sql.requireSubject);
    lines.push(
      '-- use CREATE for a new user, ALTER for an existing one; add IDENTIFIED BY to keep a password too',
    );
  }
  for (const note of info.notes) lines.push('', `# note: ${note}`);
  return `${lines.join('\n')}\n`;
}

export async function runConnectInfo(options: ConnectInfoOptions, deps: ActionDeps): Promise<number> {
  const { client } = deps;
  const { namespace, name, user } = options;
  const db = await tlsDatabase(client, { namespace, name, commandName: deps.commandName });
  const secretName = user ? clientCertificateName(name, user) : undefined;
  const [bundle, secret] = await Promise.all([
    options.out ? caBundle(client, db, deps.commandName) : undefined,
    secretName ? client.find<Secret>(Resources.secret, namespace, secretName) : undefined,
  ]);
  const data = secret ? decodeTls(secret) : undefined;
  const identity = data?.['tls.crt'] ? certificateIdentity(data['tls.crt']) : undefined;
  // Not issued yet: the subject the Certificate asks for (its organizations come before the CN).
  const requested =
    secretName && !identity
      ? await client.find<Certificate>(Resources.certificate, namespace, secretName)
      : undefined;
  const organizations =
    (requested?.spec.subject as { organizations?: string[] } | undefined)?.organizations ?? [];
  if (options.out) {
    checkWritableFolder(options.out);
    if (user && !data?.['tls.crt'])
      throw new FileRefusal(
        `no client certificate for user "${user}" of ${namespace}/${name} yet: run \`${deps.commandName} tls client-cert ${name} -n ${namespace} --db-user ${user} --out ${options.out}\``,
      );
    const files: OutputFile[] = [{ name: 'ca.crt', content: bundle?.pem ?? '', mode: 0o644 }];
    if (data) {
      files.push({ name: 'tls.crt', content: data['tls.crt'] ?? '', mode: 0o644 });
      files.push({ name: 'tls.key', content: data['tls.key'] ?? '', mode: 0o600 });
    }
    for (const note of bundle?.notes ?? []) deps.err(`note: ${note}\n`);
    const done = syncFiles({
      dir: options.out,
      files,
      certificateFile: 'tls.crt',
      ...(identity ? { identity: { subject: identity.subject } } : {}),
      overwrite: options.overwrite,
      label: options.out,
    });
    if (done !== 'unchanged')
      deps.err(`wrote ${files.map((file) => file.name).join(', ')} in ${options.out}\n`);
  }
  const info = connectInfo({
    namespace,
    name,
    ...(user ? { user } : {}),
    ...(user
      ? {
          subject: identity
            ? { text: subjectOneLine({ x509Subject: identity.subject }), fromCertificate: true }
            : { text: subjectOneLine({ user, organizations }), fromCertificate: false },
        }
      : {}),
    dir: options.out ?? '.',
    localPort: options.localPort,
    commandName: deps.commandName,
  });
  deps.out(options.output ? renderData(info, options.output) : renderConnectInfo(info));
  return ExitCode.ok;
}
