/**
 * TLS material and credentials for one request, as client-go applies them: the cluster's CA,
 * server name and skip-verify; the user's client certificate, bearer token, token file, exec
 * credential plugin (exec-credential.ts) or oidc auth-provider (oidc.ts).
 * Only this module reads key and token material, and it never logs it.
 */
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import tls from 'node:tls';
import { RuntimeError, UsageError } from '../errors.ts';
import {
  ExecCredentialSource,
  type ExecRuntime,
  execClusterInfo,
  parseExecConfig,
} from './exec-credential.ts';
import type { RawCluster, RawUser } from './kubeconfig.ts';
import { OidcTokenSource } from './oidc.ts';

export interface CredentialRuntime extends ExecRuntime {
  /** The kubeconfig file that defines the user (OIDC tokens are persisted there). */
  userFile: string | undefined;
}

export class Credentials {
  private readonly tls: https.RequestOptions;
  private readonly exec: ExecCredentialSource | undefined;
  private readonly oidc: OidcTokenSource | undefined;

  constructor(
    cluster: RawCluster,
    private readonly user: RawUser,
    userName: string,
    runtime: CredentialRuntime,
  ) {
    const provider = user['auth-provider'];
    if (provider && user.exec) {
      // clientcmd's validateAuthInfo
      throw new UsageError(`user "${userName}": auth-provider cannot be combined with an exec plugin`);
    }
    const ca = material(
      cluster['certificate-authority'],
      cluster['certificate-authority-data'],
      'certificate-authority',
    );
    this.tls = {
      ca,
      cert: material(user['client-certificate'], user['client-certificate-data'], 'client-certificate'),
      key: material(user['client-key'], user['client-key-data'], 'client-key'),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
      ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
    };
    checkKeyPair(this.tls, userName);
    if (user.exec) {
      const config = parseExecConfig(user.exec, userName);
      const info = config.provideClusterInfo ? execClusterInfo(cluster, ca) : undefined;
      this.exec = new ExecCredentialSource(config, info, runtime);
    }
    if (provider) {
      const name = (provider as { name?: string }).name ?? 'unknown';
      if (name !== 'oidc') {
        throw new RuntimeError(
          `user "${userName}" uses the legacy auth-provider "${name}", which kubectl removed in 1.26: ` +
            'switch the kubeconfig to its exec credential plugin',
        );
      }
      this.oidc = new OidcTokenSource(provider, { ...runtime, file: runtime.userFile, userName });
    }
  }

  /**
   * The precedence of client-go's transport (k8s.io/client-go/transport/round_trippers.go
   * HTTPWrappersForConfig): a bearer token (token, else tokenFile; a readable tokenFile wins over
   * token, NewBearerAuthWithRefreshRoundTripper), then basic auth; the exec plugin or auth-provider
   * only when no Authorization header is set by those.
   */
  async apply(options: https.RequestOptions): Promise<void> {
    Object.assign(options, withoutUndefined(this.tls));
    options.headers = options.headers ?? {};
    const headers = options.headers as Record<string, string | string[]>;
    const user = this.user;
    const bearer = this.bearerToken();
    if (bearer) {
      headers.Authorization = `Bearer ${bearer}`;
    } else if (user.username && user.password) {
      options.auth = `${user.username}:${user.password}`;
    } else if (this.exec) {
      const credential = await this.exec.get();
      if (credential.token) headers.Authorization = `Bearer ${credential.token}`;
      if (credential.clientCertificateData && credential.clientKeyData) {
        options.cert = credential.clientCertificateData;
        options.key = credential.clientKeyData;
      }
    } else if (this.oidc) {
      headers.Authorization = `Bearer ${await this.oidc.token()}`;
    }
    if (user.as) headers['Impersonate-User'] = user.as;
    if (user['as-groups']?.length) headers['Impersonate-Group'] = user['as-groups'];
    if (user['as-uid']) headers['Impersonate-Uid'] = user['as-uid'];
  }

  /**
   * The API server answered 401 to a request sent with `authorization`: an exec credential is
   * dropped so the next request runs the plugin again. True when that happened.
   */
  unauthorized(authorization: string): boolean {
    if (!this.exec || this.bearerToken()) return false;
    const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    return this.exec.unauthorized(token);
  }

  private bearerToken(): string | undefined {
    const { token, tokenFile } = this.user;
    if (tokenFile) {
      try {
        return readFileSync(tokenFile, 'utf8').trim();
      } catch (error) {
        // A token beside an unreadable file is used, as client-go's cached file token source does.
        if (token) return token;
        throw new RuntimeError(
          `cannot read token file ${tokenFile}: ${(error as NodeJS.ErrnoException).code ?? error}`,
        );
      }
    }
    return token || undefined;
  }
}

/** A client key that is not its certificate's: one clear line before any connection is tried. */
function checkKeyPair(options: https.RequestOptions, userName: string): void {
  const { cert, key } = options;
  if (!cert && !key) return;
  if (!cert || !key) {
    throw new RuntimeError(
      `user "${userName}": a client ${cert ? 'certificate needs its client-key' : 'key needs its client-certificate'}`,
    );
  }
  try {
    tls.createSecureContext({ cert, key });
  } catch (error) {
    const message = (error as Error).message;
    if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(message)) {
      throw new RuntimeError(
        `user "${userName}": the client-key does not belong to the client-certificate (its public key differs)`,
      );
    }
    throw new RuntimeError(`user "${userName}": the client certificate or key cannot be used: ${message}`);
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
