/**
 * Exec credential plugins, as client-go runs them (k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go,
 * validation from k8s.io/client-go/tools/clientcmd/validation.go validateAuthInfo):
 * - apiVersion client.authentication.k8s.io/v1 or v1beta1; v1 needs interactiveMode, v1beta1 defaults
 *   to IfAvailable (k8s.io/client-go/tools/clientcmd/api/v1/defaults.go SetDefaults_ExecConfig).
 * - Never: no stdin. IfAvailable: stdin when it is a terminal. Always: stdin, and an error when it is
 *   not a terminal. stderr always reaches the user (client-go sets cmd.Stderr unconditionally).
 * - KUBERNETES_EXEC_INFO always carries spec.interactive; spec.cluster with provideClusterInfo.
 * - One run per process: the credential is cached until its expirationTimestamp (none: for the
 *   process), shared by concurrent requests; a 401 with the cached credential drops it once.
 * - Interactive runs (stdin handed to the plugin) take turns across every user of one command
 *   (`--contexts` resolves several at once): two plugins never prompt on one terminal together.
 * - The answer must be the configured apiVersion and carry a token or a certificate/key pair.
 */
import { InterruptedError, RuntimeError, UsageError } from '../errors.ts';
import type { RawCluster } from './kubeconfig.ts';

const apiVersions = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);
const interactiveModes = new Set(['Never', 'IfAvailable', 'Always']);
/** The extension key whose value client-go passes as spec.cluster.config. */
const clusterConfigExtension = 'client.authentication.k8s.io/exec';

export interface ExecConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  installHint: string;
  provideClusterInfo: boolean;
  interactiveMode: 'Never' | 'IfAvailable' | 'Always';
}

export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** Milliseconds since the epoch; undefined: valid for the whole process. */
  expiresAt?: number;
}

export interface ExecRuntime {
  env: Record<string, string | undefined>;
  /** Whether the user's stdin is a terminal (IfAvailable, Always). */
  stdinIsTTY: boolean;
  /** The plugin's stderr, as it arrives (prompts, device codes). */
  err: (text: string) => void;
  signal?: AbortSignal | undefined;
  now: () => number;
  /**
   * Runs an interactive plugin run when no other interactive run of the command is going on (one
   * for the whole command, shared by every context's credentials); absent: runs it at once.
   */
  interactiveTurn?: <R>(run: () => Promise<R>) => Promise<R>;
}

/** clientcmd's validation of a user's exec stanza, with client-go's defaults applied. */
export function parseExecConfig(raw: Record<string, unknown>, userName: string): ExecConfig {
  const where = `user "${userName}": exec`;
  const command = typeof raw.command === 'string' ? raw.command : '';
  if (!command) throw new UsageError(`${where}: command must be specified`);
  const apiVersion = typeof raw.apiVersion === 'string' ? raw.apiVersion : '';
  if (!apiVersion) throw new UsageError(`${where}: apiVersion must be specified`);
  if (!apiVersions.has(apiVersion)) {
    throw new UsageError(
      `${where}: apiVersion "${apiVersion}" is not supported: use client.authentication.k8s.io/v1 or v1beta1`,
    );
  }
  let mode = typeof raw.interactiveMode === 'string' ? raw.interactiveMode : '';
  if (!mode && apiVersion.endsWith('/v1beta1')) mode = 'IfAvailable';
  if (!mode)
    throw new UsageError(`${where}: interactiveMode must be specified (Never, IfAvailable or Always)`);
  if (!interactiveModes.has(mode)) throw new UsageError(`${where}: invalid interactiveMode "${mode}"`);
  const env = Array.isArray(raw.env) ? (raw.env as { name?: unknown; value?: unknown }[]) : [];
  for (const entry of env) {
    if (typeof entry?.name !== 'string' || entry.name === '')
      throw new UsageError(`${where}: env variable name must be specified`);
  }
  return {
    command,
    args: Array.isArray(raw.args) ? raw.args.map(String) : [],
    env: env.map((entry) => ({ name: String(entry.name), value: String(entry.value ?? '') })),
    apiVersion,
    installHint: typeof raw.installHint === 'string' ? raw.installHint : '',
    provideClusterInfo: raw.provideClusterInfo === true,
    interactiveMode: mode as ExecConfig['interactiveMode'],
  };
}

/**
 * spec.cluster of KUBERNETES_EXEC_INFO (k8s.io/client-go/pkg/apis/clientauthentication/v1 Cluster,
 * filled by ConfigToExecCluster in k8s.io/client-go/rest/exec.go).
 */
export function execClusterInfo(cluster: RawCluster, caData: Buffer | undefined): Record<string, unknown> {
  const extensions = (cluster as { extensions?: { name?: string; extension?: unknown }[] }).extensions;
  const config = Array.isArray(extensions)
    ? extensions.find((entry) => entry?.name === clusterConfigExtension)?.extension
    : undefined;
  const info: Record<string, unknown> = { server: cluster.server ?? '' };
  if (cluster['tls-server-name']) info['tls-server-name'] = cluster['tls-server-name'];
  if (cluster['insecure-skip-tls-verify']) info['insecure-skip-tls-verify'] = true;
  if (caData?.length) info['certificate-authority-data'] = caData.toString('base64');
  if (cluster['proxy-url']) info['proxy-url'] = cluster['proxy-url'];
  if (config !== undefined) info.config = config;
  return info;
}

export class ExecCredentialSource {
  private cached: Promise<ExecCredential> | undefined;
  private current: ExecCredential | undefined;

  constructor(
    private readonly config: ExecConfig,
    private readonly clusterInfo: Record<string, unknown> | undefined,
    private readonly runtime: ExecRuntime,
  ) {}

  /** The cached credential, or one new run of the plugin (shared by concurrent callers). */
  get(): Promise<ExecCredential> {
    const { current } = this;
    if (current?.expiresAt !== undefined && this.runtime.now() > current.expiresAt) this.cached = undefined;
    if (!this.cached) {
      this.cached = this.run().then(
        (credential) => {
          this.current = credential;
          return credential;
        },
        (error: unknown) => {
          this.cached = undefined;
          throw error;
        },
      );
    }
    return this.cached;
  }

  /**
   * A 401 answered `token`: forget it if it is still the cached one (client-go's maybeRefreshCreds).
   * True when the next get() gives another credential than `token` (also when a concurrent 401
   * already dropped it).
   */
  unauthorized(token: string | undefined): boolean {
    if (this.current && this.current.token !== token) return true;
    if (!this.current) return this.cached !== undefined || token !== undefined;
    this.current = undefined;
    this.cached = undefined;
    return true;
  }

  private interactive(): boolean {
    switch (this.config.interactiveMode) {
      case 'Never':
        return false;
      case 'IfAvailable':
        return this.runtime.stdinIsTTY;
      default:
        if (!this.runtime.stdinIsTTY) {
          throw new RuntimeError(
            `exec credential plugin "${this.config.command}" needs an interactive terminal (interactiveMode: Always), but standard input is not a terminal`,
          );
        }
        return true;
    }
  }

  private run(): Promise<ExecCredential> {
    const interactive = this.interactive();
    const { interactiveTurn } = this.runtime;
    const run = () => this.spawnPlugin(interactive);
    return interactive && interactiveTurn ? interactiveTurn(run) : run();
  }

  private async spawnPlugin(interactive: boolean): Promise<ExecCredential> {
    // Loaded on first use: most kubeconfigs never run a credential plugin. Not import(): the single
    // executable compiles the bundle as a script, which has no module loader behind it.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const { config, runtime } = this;
    const info = {
      kind: 'ExecCredential',
      apiVersion: config.apiVersion,
      spec: { ...(this.clusterInfo ? { cluster: this.clusterInfo } : {}), interactive },
    };
    const env: Record<string, string | undefined> = { ...runtime.env };
    for (const entry of config.env) env[entry.name] = entry.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(info);
    return new Promise((resolve, reject) => {
      if (runtime.signal?.aborted) return reject(new InterruptedError());
      const child = spawn(config.command, config.args, {
        env: env as NodeJS.ProcessEnv,
        stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'pipe'],
        ...(runtime.signal ? { signal: runtime.signal } : {}),
      });
      const stdout: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => runtime.err(chunk.toString('utf8')));
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (runtime.signal?.aborted) return reject(new InterruptedError());
        if (error.code === 'ENOENT') return reject(this.notFound());
        reject(
          new RuntimeError(`exec credential plugin "${config.command}" could not start: ${error.message}`),
        );
      });
      child.once('close', (code, signal) => {
        if (runtime.signal?.aborted) return reject(new InterruptedError());
        if (code !== 0) {
          const how = signal ? `was killed by ${signal}` : `failed with exit code ${code}`;
          return reject(new RuntimeError(`exec credential plugin "${config.command}" ${how}`));
        }
        try {
          resolve(this.decode(Buffer.concat(stdout).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  private notFound(): RuntimeError {
    const { command, installHint } = this.config;
    const where = command.includes('/') ? 'does not exist' : 'was not found on PATH';
    const hint = installHint ? `\n\n${installHint.trimEnd()}` : '';
    return new RuntimeError(`exec credential plugin "${command}" ${where}${hint}`);
  }

  private decode(text: string): ExecCredential {
    const { command, apiVersion } = this.config;
    const problem = (what: string) => new RuntimeError(`exec credential plugin "${command}" ${what}`);
    let doc: {
      apiVersion?: unknown;
      kind?: unknown;
      status?: {
        token?: string;
        clientCertificateData?: string;
        clientKeyData?: string;
        expirationTimestamp?: string;
      };
    };
    try {
      doc = JSON.parse(text);
    } catch {
      // Never quoted: a plugin misconfigured to print a bare token (`gcloud auth print-access-token`)
      // would put it in the error, and from there on stderr and into a support archive.
      throw problem(
        `printed something that is not an ExecCredential (${Buffer.byteLength(text)} bytes that are not JSON)`,
      );
    }
    if (!doc || typeof doc !== 'object' || doc.kind !== 'ExecCredential') {
      throw problem('printed something that is not an ExecCredential (kind is not ExecCredential)');
    }
    if (doc.apiVersion !== apiVersion) {
      throw problem(
        `returned apiVersion "${String(doc.apiVersion ?? '')}", but the kubeconfig asks for ${apiVersion}`,
      );
    }
    const status = doc.status;
    if (!status || typeof status !== 'object') throw problem("didn't return a status field");
    if (!status.token && !status.clientCertificateData && !status.clientKeyData) {
      throw problem("didn't return a token or a certificate/key pair");
    }
    if (!status.clientCertificateData !== !status.clientKeyData) {
      throw problem('returned only a certificate or only a key, not both');
    }
    let expiresAt: number | undefined;
    if (status.expirationTimestamp) {
      expiresAt = Date.parse(status.expirationTimestamp);
      if (Number.isNaN(expiresAt)) throw problem(`returned an invalid expirationTimestamp`);
    }
    return {
      ...(status.token ? { token: status.token } : {}),
      ...(status.clientCertificateData ? { clientCertificateData: status.clientCertificateData } : {}),
      ...(status.clientKeyData ? { clientKeyData: status.clientKeyData } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
  }
}
