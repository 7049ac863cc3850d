/**
 * Shared by the end-to-end tests: they run the compiled binary (dist/kubectl-singlestore) against the
 * local control plane that scripts/test brings up (TEST_CLUSTER_DIR), and use kubectl and an admin
 * client to arrange and inspect the cluster.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { createFactory } from '../../src/kube/factory.ts';
import { findCondition } from '../../src/kube/objects.ts';
import { silentLog } from '../../src/kube/request-log.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Certificate } from '../../src/kubedb/types.ts';

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
  options: { env?: Record<string, string | undefined>; program?: string; timeoutMs?: number } = {},
): Promise<Result> {
  const started = performance.now();
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: kubeconfig, ...options.env };
  return new Promise((resolve) => {
    execFile(
      options.program ?? binary,
      args,
      { env: env as NodeJS.ProcessEnv, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
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
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
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
    const pods = await client.list(Resources.pod, selector);
    return ready && pods.items.length === 2;
  });
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
  /** Resolves once stderr contains `text`. */
  waitFor(text: string): Promise<void>;
  /** Send a signal and resolve with the exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/** The binary started in the background, for tests that interrupt or kill it mid-wait. */
export function startPlugin(args: string[]): RunningPlugin {
  const child = spawn(binary, args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    stderr: () => stderr,
    waitFor: (text) =>
      eventually(`"${text}" on stderr`, async () => stderr.includes(text), 30_000).then(() => undefined),
    stop: (signal) => {
      child.kill(signal);
      return exited;
    },
  };
}
