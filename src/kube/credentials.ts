/**
 * TLS material and credentials for one request, as client-go applies them: the cluster's CA,
 * server name and skip-verify; the user's client certificate, bearer token, token file or exec
 * credential plugin (client-node's ExecAuth runs the plugin and caches its ExecCredential).
 * Only this module reads key and token material, and it never logs it.
 */
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { ExecAuth } from '@kubernetes/client-node/dist/exec_auth.js';
import { RuntimeError } from '../errors.ts';
import type { RawCluster, RawUser } from './kubeconfig.ts';

export class Credentials {
  private readonly execAuth = new ExecAuth();
  private readonly tls: https.RequestOptions;

  constructor(
    cluster: RawCluster,
    private readonly user: RawUser,
    private readonly userName: string,
  ) {
    if (user['auth-provider']) {
      const name = (user['auth-provider'] as { name?: string }).name ?? 'unknown';
      throw new RuntimeError(
        `user "${userName}" uses the legacy auth-provider "${name}", which this plugin does not support: ` +
          'switch the kubeconfig to an exec credential plugin (as kubectl >= 1.26 requires)',
      );
    }
    this.tls = {
      ca: material(
        cluster['certificate-authority'],
        cluster['certificate-authority-data'],
        'certificate-authority',
      ),
      cert: material(user['client-certificate'], user['client-certificate-data'], 'client-certificate'),
      key: material(user['client-key'], user['client-key-data'], 'client-key'),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
      ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
    };
  }

  async apply(options: https.RequestOptions): Promise<void> {
    Object.assign(options, withoutUndefined(this.tls));
    options.headers = options.headers ?? {};
    const headers = options.headers as Record<string, string | string[]>;
    const user = this.user;
    if (user.exec) {
      try {
        await this.execAuth.applyAuthentication({ name: this.userName, exec: user.exec } as never, options);
      } catch (error) {
        throw execError(user.exec, error);
      }
    } else if (user.token) {
      headers.Authorization = `Bearer ${user.token}`;
    } else if (user.tokenFile) {
      headers.Authorization = `Bearer ${readMaterial(user.tokenFile, 'token file').toString('utf8').trim()}`;
    } else if (user.username && user.password) {
      options.auth = `${user.username}:${user.password}`;
    }
    if (user.as) headers['Impersonate-User'] = user.as;
    if (user['as-groups']?.length) headers['Impersonate-Group'] = user['as-groups'];
    if (user['as-uid']) headers['Impersonate-Uid'] = user['as-uid'];
  }
}

function material(file: string | undefined, data: string | undefined, what: string): Buffer | undefined {
  if (file) return readMaterial(file, what);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

function readMaterial(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new RuntimeError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function execError(exec: Record<string, unknown>, error: unknown): RuntimeError {
  const command = String(exec.command ?? '');
  const detail =
    (error instanceof Error ? error.message : String(error)).trim().split('\n')[0] || 'no output';
  if (error instanceof SyntaxError) {
    return new RuntimeError(
      `exec credential plugin "${command}" printed something that is not an ExecCredential: ${detail}`,
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new RuntimeError(`exec credential plugin "${command}" was not found on PATH`);
  return new RuntimeError(`exec credential plugin "${command}" failed: ${detail}`);
}
