/**
 * Shared by the end-to-end tests: they run the compiled binary (dist/kubectl-singlestore) against the
 * local control plane that scripts/test brings up (TEST_CLUSTER_DIR), and use kubectl and an admin
 * client to arrange and inspect the cluster.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { createFactory } from '../../src/kube/factory.ts';
import { findCondition } from '../../src/kube/objects.ts';
import { silentLog } from '../../src/kube/request-log.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Certificate, PetSet, Pod, Secret } from '../../src/kubedb/types.ts';
import { podSocketPath } from '../standin/socket-path.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const binary = path.join(repoRoot, 'dist', 'kubectl-singlestore');
export const distDir = path.dirname(binary);

const dir = process.env.TEST_CLUSTER_DIR;
/** Why the end-to-end tests cannot run here, if they cannot; `npm test` always provides both. */
export const skipReason = !dir
  ? 'TEST_CLUSTER_DIR is not set: run the suite with `npm test`'
  : !existsSync(binary)
    ? `${binary} is missing: run npm run build`
    : undefined;

export const clusterDir = dir ?? '';
export const kubeconfig = path.join(clusterDir, 'kubeconfig');

export function clusterEnv(): Record<string, string> {
  if (!dir) return {};
  return Object.fromEntries(
    readFileSync(path.join(dir, 'env'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runPlugin(
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    program?: string;
    timeoutMs?: number;
    cwd?: string;
  } = {},
): Promise<Result> {
  const started = performance.now();
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: kubeconfig, ...options.env };
  return new Promise((resolve) => {
    execFile(
      options.program ?? binary,
      args,
      {
        env: env as NodeJS.ProcessEnv,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

export function kubectl(args: string[], env: Record<string, string | undefined> = {}): string {
  return execFileSync('kubectl', args, {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfig, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function kubectlApply(yaml: string): void {
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, '--context', 'admin', 'apply', '-f', '-'], {
    input: yaml,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function adminClient() {
  return createFactory({ kubeconfig, context: 'admin' }, { env: {} }, silentLog, () => {}).client;
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  /** Pause between probes: longer for costly probes run by many tests at once. */
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

/** The uids of a database's pods, sorted: a restart replaces every one of them. */
export async function podUids(namespace: string, name: string): Promise<string[]> {
  const pods = await adminClient().list<Pod>(Resources.pod, {
    namespace,
    labelSelector: `app.kubernetes.io/instance=${name}`,
  });
  return pods.items.map((pod) => pod.metadata.uid ?? '').sort();
}

/** A namespace of its own for a test file, with the demo CA issuer in it. */
export async function namespaceWithIssuer(namespace: string): Promise<void> {
  const issuer = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'issuer.yaml'), 'utf8').replaceAll(
    'namespace: demo',
    `namespace: ${namespace}`,
  );
  kubectlApply(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}}\n---\n${issuer}`);
  const client = adminClient();
  await eventually(`issuer in ${namespace} Ready`, async () => {
    const issuer = await client.get<{
      metadata: { name: string };
      status?: { conditions?: { type: string; status: string }[] };
    }>(
      { group: 'cert-manager.io', version: 'v1', plural: 'issuers', kind: 'Issuer', namespaced: true },
      namespace,
      'sdb-issuer',
    );
    return issuer.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  });
}

/** Waits until a provisioned database's two Certificates are Ready and its two pods run. */
export async function certificatesReady(namespace: string, name: string): Promise<void> {
  const client = adminClient();
  const selector = { namespace, labelSelector: `app.kubernetes.io/instance=${name}` };
  await eventually(`${name} certificates Ready and pods running`, async () => {
    const certificates = await client.list<Certificate>(Resources.certificate, selector);
    const ready =
      certificates.items.length === 2 &&
      certificates.items.every((c) => findCondition(c.status?.conditions, 'Ready')?.status === 'True');
    const pods = await client.list<Pod>(Resources.pod, selector);
    // A pod is Running, and Ready once its server accepts connections (the stand-in's container runtime).
    const podsUp =
      pods.items.length === 2 &&
      pods.items.every(
        (pod) =>
          pod.status?.phase === 'Running' &&
          findCondition(pod.status?.conditions, 'Ready')?.status === 'True',
      );
    return ready && podsUp && (await petSetsSettled(namespace, name));
  });
}

/**
 * The PetSets of a database report their rollout done, as a StatefulSet's status does: the status
 * lags its pods by one reconcile, and a status read in between honestly says "rollout not finished".
 */
async function petSetsSettled(namespace: string, instance: string): Promise<boolean> {
  const petSets = await adminClient().list<PetSet>(Resources.petset, {
    namespace,
    labelSelector: `app.kubernetes.io/instance=${instance}`,
  });
  return (
    petSets.items.length > 0 &&
    petSets.items.every((petSet) => {
      const replicas = petSet.spec.replicas ?? 1;
      const status = petSet.status ?? {};
      return (
        (status.observedGeneration ?? 0) >= (petSet.metadata.generation ?? 0) &&
        status.readyReplicas === replicas &&
        status.updatedReplicas === replicas &&
        status.currentRevision === status.updateRevision
      );
    })
  );
}

export interface SinglestoreOptions {
  /** The Issuer (or, with issuerKind, ClusterIssuer) of spec.tls; none: TLS off. */
  issuer?: string;
  leaves?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A clustered Singlestore as the tests create it, as YAML for kubectl apply. */
export function singlestoreYaml(name: string, namespace: string, options: SinglestoreOptions = {}): string {
  return yaml.dump({
    apiVersion: 'kubedb.com/v1alpha2',
    kind: 'Singlestore',
    metadata: {
      name,
      namespace,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      version: '8.7.10',
      licenseSecret: { kind: 'Secret', name: 'license' },
      storageType: 'Ephemeral',
      topology: { aggregator: { replicas: 1 }, leaf: { replicas: options.leaves ?? 1 } },
      ...(options.issuer
        ? { tls: { issuerRef: { apiGroup: 'cert-manager.io', kind: 'Issuer', name: options.issuer } } }
        : {}),
    },
  });
}

export interface RunningPlugin {
  /** Everything the plugin wrote to stderr so far. */
  stderr(): string;
  /** Everything the plugin wrote to stdout so far. */
  stdout(): string;
  /** Resolves once stderr contains `text`. */
  waitFor(text: string): Promise<void>;
  /** Send a signal and resolve with the exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code (null when a signal ended it) once the plugin has exited. */
  exited: Promise<number | null>;
}

/** The binary started in the background, for tests that interrupt or kill it mid-wait. */
export function startPlugin(args: string[], env: Record<string, string> = {}): RunningPlugin {
  const child = spawn(binary, args, { env: { ...process.env, KUBECONFIG: kubeconfig, ...env } });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (text) =>
      eventually(`"${text}" on stderr`, async () => stderr.includes(text), 30_000).then(() => undefined),
    stop: (signal) => {
      child.kill(signal);
      return exited;
    },
  };
}

// ---- The test bed: pods that really serve (kwok forwards each pod's port 3306 to a MariaDB server
// the stand-in runs for it; see test/standin/runtime.ts and README.md "The test bed").

/** The stand-in's per-pod state: `sock` (root over the Unix socket), the copied ca.crt/tls.crt/tls.key. */
export function podRuntimeDir(namespace: string, pod: string): string {
  return path.join(clusterDir, 'runtime', namespace, pod);
}

/** Waits until `count` pods of a database are Running and Ready (each one's server accepts connections). */
export async function podsReady(namespace: string, name: string, count: number): Promise<Pod[]> {
  const client = adminClient();
  return eventually(`${count} pods of ${name} Ready`, async () => {
    const pods = await client.list<Pod>(Resources.pod, {
      namespace,
      labelSelector: `app.kubernetes.io/instance=${name}`,
    });
    const ready = pods.items.filter(
      (pod) =>
        !pod.metadata.deletionTimestamp &&
        pod.status?.phase === 'Running' &&
        findCondition(pod.status.conditions, 'Ready')?.status === 'True',
    );
    return ready.length === count && pods.items.length === count && (await petSetsSettled(namespace, name))
      ? ready
      : undefined;
  });
}

export interface PortForward {
  /** The local port on 127.0.0.1. */
  port: number;
  /** What kubectl port-forward wrote to stderr so far (errors of single connections land there). */
  stderr(): string;
  close(): Promise<void>;
}

/**
 * `kubectl port-forward` (admin context) from a free local port to a pod's port, through the API
 * server and kwok; resolves once kubectl says it is forwarding.
 */
export function portForward(namespace: string, pod: string, remotePort = 3306): Promise<PortForward> {
  const child = spawn(
    'kubectl',
    [
      '--kubeconfig',
      kubeconfig,
      '--context',
      'admin',
      '-n',
      namespace,
      'port-forward',
      '--address',
      '127.0.0.1',
      `pod/${pod}`,
      `:${remotePort}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void close();
      reject(new Error(`kubectl port-forward to ${namespace}/${pod} not ready in 30s: ${stderr}`));
    }, 30_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const forwarding = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (forwarding) {
        clearTimeout(timer);
        resolve({ port: Number(forwarding[1]), stderr: () => stderr, close });
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward to ${namespace}/${pod} exited: ${stderr}`));
    });
  });
}

/**
 * Runs fn with a port-forward of its own to the pod, closed afterwards. kubectl port-forward gives
 * up for good once a connection to the pod is refused or reset (as while a server restarts), so a
 * test that changes what a pod serves opens a new one for each look.
 */
export async function withPortForward<T>(
  namespace: string,
  pod: string,
  fn: (port: number, forward: PortForward) => Promise<T>,
): Promise<T> {
  const forward = await portForward(namespace, pod);
  try {
    return await fn(forward.port, forward);
  } finally {
    await forward.close();
  }
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Killed at the time limit. */
  timedOut: boolean;
}

/** Runs a program with stdin closed, killed after timeoutMs. */
export function runTool(program: string, args: string[], timeoutMs = 15_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(
      program,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr, timedOut: Boolean(error?.killed) });
      },
    );
    child.stdin?.end();
  });
}

/** `openssl s_client -starttls mysql` against 127.0.0.1:port, with extra arguments (e.g. `-tls1_1`). */
export function startTls(port: number, args: string[] = [], timeoutMs = 10_000): Promise<ToolResult> {
  return runTool(
    'openssl',
    ['s_client', '-starttls', 'mysql', '-connect', `127.0.0.1:${port}`, '-showcerts', ...args],
    timeoutMs,
  );
}

export interface ServedCertificate {
  /** Lowercase hex, as Node's X509Certificate.serialNumber lowercased. */
  serial: string;
  /** The served leaf certificate. */
  pem: string;
  /** The TLS protocol version negotiated, e.g. TLSv1.3; '' when openssl ended before printing its session. */
  protocol: string;
}

/** The leaf certificate a MySQL-protocol server serves at 127.0.0.1:port (STARTTLS), or an error. */
export async function servedCertificate(port: number, args: string[] = []): Promise<ServedCertificate> {
  const result = await startTls(port, args);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(result.stdout)?.[0];
  if (!pem) {
    const why = result.timedOut ? 'timed out' : `exit ${result.code}`;
    throw new Error(`no certificate served on port ${port} (${why}): ${result.stderr}${result.stdout}`);
  }
  // "Protocol  :" of the SSL-Session block (the "New, TLSv1.0, Cipher is" line names the cipher's version).
  const protocol = /^\s*Protocol\s*:\s*(\S+)/m.exec(result.stdout)?.[1] ?? '';
  return { serial: new X509Certificate(pem).serialNumber.toLowerCase(), pem, protocol };
}

/** The serial of a Secret's tls.crt, lowercase hex. */
export async function secretSerial(namespace: string, secret: string): Promise<string> {
  const data = (await adminClient().get<Secret>(Resources.secret, namespace, secret)).data ?? {};
  return new X509Certificate(Buffer.from(data['tls.crt'] ?? '', 'base64')).serialNumber.toLowerCase();
}

export interface Greeting {
  serverVersion: string;
  /** The greeting offers TLS (CLIENT_SSL). */
  ssl: boolean;
}

/** Reads the MySQL greeting (HandshakeV10) at 127.0.0.1:port without answering it. */
export function mysqlGreeting(port: number, timeoutMs = 5000): Promise<Greeting> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no greeting on port ${port} in ${timeoutMs} ms`)));
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(`port ${port} closed before a greeting (${data.length} bytes)`)));
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4 || data.length < 4 + data.readUIntLE(0, 3)) return;
      const end = data.indexOf(0, 5);
      const serverVersion = data.subarray(5, end).toString();
      // After the version: connection id (4), scramble (8), filler (1), capability flags (lower 2 bytes).
      const capabilities = data.readUInt16LE(end + 1 + 4 + 8 + 1);
      socket.destroy();
      resolve({ serverVersion, ssl: (capabilities & 0x800) !== 0 });
    });
  });
}

export interface LoginOptions {
  port: number;
  user: string;
  /** --ssl-ca; --ssl-cert and --ssl-key present a client certificate. */
  ca?: string;
  cert?: string;
  key?: string;
  /** --ssl-verify-server-cert (against `ca`, with host `localhost`). */
  verifyServer?: boolean;
  /** Default: SELECT CURRENT_USER(). */
  sql?: string;
}

/**
 * Debian's `mariadb` client logging in to 127.0.0.1:port as `-h localhost --protocol=TCP` (so host
 * checking uses KubeDB's `localhost` SAN), without a password.
 */
export function mariadbLogin(options: LoginOptions): Promise<ToolResult> {
  return runTool('mariadb', [
    '--no-defaults',
    '--protocol=TCP',
    '-h',
    'localhost',
    '-P',
    String(options.port),
    '-u',
    options.user,
    '--connect-timeout=10',
    '--batch',
    '--skip-column-names',
    ...(options.ca ? ['--ssl', `--ssl-ca=${options.ca}`] : []),
    ...(options.cert ? [`--ssl-cert=${options.cert}`] : []),
    ...(options.key ? [`--ssl-key=${options.key}`] : []),
    ...(options.verifyServer ? ['--ssl-verify-server-cert'] : []),
    '-e',
    options.sql ?? 'SELECT CURRENT_USER()',
  ]);
}

/** SQL as root over a pod's Unix socket (the stand-in's server for that pod); the output, tab-separated. */
export async function podSql(namespace: string, pod: string, sql: string): Promise<string> {
  const socket = podSocketPath(podRuntimeDir(namespace, pod));
  const result = await runTool('mariadb', [
    '--no-defaults',
    `--socket=${socket}`,
    '-u',
    'root',
    '--batch',
    '--skip-column-names',
    '-e',
    sql,
  ]);
  if (result.code !== 0) throw new Error(`SQL on ${namespace}/${pod} failed: ${result.stderr}`);
  return result.stdout;
}

export interface TlsFiles {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

/** A Secret's ca.crt, tls.crt and tls.key written to a new temporary directory (key mode 0600). */
export async function secretTlsFiles(namespace: string, secret: string): Promise<TlsFiles> {
  const data = (await adminClient().get<Secret>(Resources.secret, namespace, secret)).data ?? {};
  const dir = mkdtempSync(path.join(tmpdir(), `${secret}-`));
  const files = {
    dir,
    ca: path.join(dir, 'ca.crt'),
    cert: path.join(dir, 'tls.crt'),
    key: path.join(dir, 'tls.key'),
  };
  writeFileSync(files.ca, Buffer.from(data['ca.crt'] ?? '', 'base64'));
  writeFileSync(files.cert, Buffer.from(data['tls.crt'] ?? '', 'base64'));
  writeFileSync(files.key, Buffer.from(data['tls.key'] ?? '', 'base64'), { mode: 0o600 });
  return files;
}
