/**
 * The `oidc` auth-provider, as kubectl 1.32 still runs it (k8s.io/client-go/plugin/pkg/client/auth/oidc/oidc.go):
 * - client-id and idp-issuer-url are required;
 * - the id-token is used while its `exp` is more than 10 s away (idTokenExpired, expiryDelta);
 * - else the refresh-token is exchanged at the issuer's token endpoint, found in
 *   `<idp-issuer-url>/.well-known/openid-configuration` (tokenEndpoint), with the client id/secret
 *   (golang.org/x/oauth2's tokenRefresher: grant_type=refresh_token and the refresh token only, no
 *   scope; client credentials in Basic auth);
 * - the answer must carry an id_token; the new id-token (and refresh-token, when one is returned)
 *   are written back to the kubeconfig file the user entry came from (the persister kubectl passes,
 *   k8s.io/client-go/tools/clientcmd/config.go PersistAuthProviderConfigForUser / ModifyConfig).
 * The issuer is reached with idp-certificate-authority(-data) as its CA and the environment's proxy
 * (the provider's http.Client uses http.ProxyFromEnvironment).
 * Other auth-providers (gcp, azure) were removed from kubectl in 1.26 and are refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import yaml from 'js-yaml';
import { InterruptedError, RuntimeError, UsageError } from '../errors.ts';
import { createAgent, proxyFromEnvironment } from './transport.ts';

/** expiryDelta in oidc.go. */
const expiryDeltaMs = 10_000;
const issuerTimeoutMs = 30_000;

export interface OidcRuntime {
  env: Record<string, string | undefined>;
  now: () => number;
  signal?: AbortSignal | undefined;
  /** The kubeconfig file that defines the user, where refreshed tokens are persisted. */
  file: string | undefined;
  userName: string;
}

export class OidcTokenSource {
  private config: Record<string, string>;
  private pending: Promise<string> | undefined;

  constructor(
    provider: Record<string, unknown>,
    private readonly runtime: OidcRuntime,
  ) {
    const raw = (provider.config ?? {}) as Record<string, unknown>;
    this.config = Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, String(value ?? '')]));
    const where = `user "${runtime.userName}": auth-provider oidc`;
    if (!this.config['client-id']) throw new UsageError(`${where}: client-id must be set`);
    if (!this.config['idp-issuer-url']) throw new UsageError(`${where}: idp-issuer-url must be set`);
  }

  /** The id-token to send, refreshed first when it has expired. */
  token(): Promise<string> {
    const idToken = this.config['id-token'];
    if (idToken && this.valid(idToken)) return Promise.resolve(idToken);
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private valid(idToken: string): boolean {
    const parts = idToken.split('.');
    if (parts.length !== 3) {
      throw new RuntimeError(`user "${this.runtime.userName}": the oidc id-token is not a valid JWT`);
    }
    let exp: unknown;
    try {
      exp = (JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    } catch {
      throw new RuntimeError(`user "${this.runtime.userName}": the oidc id-token is not a valid JWT`);
    }
    return typeof exp === 'number' && this.runtime.now() + expiryDeltaMs < exp * 1000;
  }

  private async refresh(): Promise<string> {
    const { userName } = this.runtime;
    const refreshToken = this.config['refresh-token'];
    if (!refreshToken) {
      throw new RuntimeError(
        `user "${userName}": the oidc id-token has expired and there is no refresh-token to renew it: log in again`,
      );
    }
    const issuer = (this.config['idp-issuer-url'] ?? '').replace(/\/$/, '');
    const metadata = await this.call(new URL(`${issuer}/.well-known/openid-configuration`));
    const tokenUrl = (metadata as { token_endpoint?: unknown }).token_endpoint;
    if (typeof tokenUrl !== 'string' || !tokenUrl) {
      throw new RuntimeError(`oidc issuer ${issuer}: its metadata has no token_endpoint`);
    }
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    const clientId = this.config['client-id'] ?? '';
    const secret = this.config['client-secret'] ?? '';
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    // oauth2's AuthStyleInHeader: both halves URL-encoded, then Basic.
    headers.Authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    const answer = (await this.call(new URL(tokenUrl), { headers, body: form.toString() })) as {
      id_token?: unknown;
      refresh_token?: unknown;
    };
    if (typeof answer.id_token !== 'string' || !answer.id_token) {
      throw new RuntimeError(
        `oidc issuer ${issuer}: the token response has no id_token (was the "openid" scope requested at login?)`,
      );
    }
    const updated: Record<string, string> = { ...this.config, 'id-token': answer.id_token };
    if (typeof answer.refresh_token === 'string' && answer.refresh_token)
      updated['refresh-token'] = answer.refresh_token;
    this.config = updated;
    this.persist(updated);
    return answer.id_token;
  }

  /** Write the provider's config back into the file the user came from (kubectl rewrites that file). */
  private persist(config: Record<string, string>): void {
    const { file, userName } = this.runtime;
    if (!file) return;
    try {
      const doc = yaml.load(readFileSync(file, 'utf8')) as { users?: { name?: string; user?: unknown }[] };
      const entry = doc.users?.find((user) => user?.name === userName);
      const provider = (
        entry?.user as { 'auth-provider'?: { config?: Record<string, string> } } | undefined
      )?.['auth-provider'];
      if (!provider) return;
      provider.config = config;
      writeFileSync(file, yaml.dump(doc, { lineWidth: -1, noRefs: true }));
    } catch (error) {
      throw new RuntimeError(
        `cannot save the refreshed oidc token of user "${userName}" to ${file}: ${(error as Error).message}`,
      );
    }
  }

  private call(url: URL, post?: { headers: Record<string, string>; body: string }): Promise<unknown> {
    const { signal, env } = this.runtime;
    const secure = url.protocol === 'https:';
    const ca = this.issuerCa();
    const agent = createAgent({ secure, proxy: proxyFromEnvironment(url, env), signal });
    const transport = secure ? https : http;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new InterruptedError());
      const request = transport.request(
        url,
        {
          method: post ? 'POST' : 'GET',
          agent,
          headers: { Accept: 'application/json', ...post?.headers },
          ...(ca ? { ca } : {}),
          ...(signal ? { signal } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            agent.destroy();
            const text = Buffer.concat(chunks).toString('utf8');
            const status = response.statusCode ?? 0;
            if (status !== 200) {
              const detail = /"error_description"\s*:\s*"([^"]*)"|"error"\s*:\s*"([^"]*)"/.exec(text);
              return reject(
                new RuntimeError(
                  `oidc issuer: ${url.origin}${url.pathname} answered ${status}${detail ? `: ${detail[1] ?? detail[2]}` : ''}`,
                ),
              );
            }
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new RuntimeError(`oidc issuer: ${url.origin}${url.pathname} did not answer JSON`));
            }
          });
        },
      );
      request.setTimeout(issuerTimeoutMs, () => request.destroy(new Error(`no answer within 30s`)));
      request.on('error', (error) => {
        agent.destroy();
        if (signal?.aborted) return reject(new InterruptedError());
        reject(new RuntimeError(`cannot reach the oidc issuer at ${url.origin}: ${error.message}`));
      });
      request.end(post?.body);
    });
  }

  private issuerCa(): Buffer | undefined {
    const file = this.config['idp-certificate-authority'];
    const data = this.config['idp-certificate-authority-data'];
    if (file) {
      try {
        return readFileSync(file);
      } catch (error) {
        throw new RuntimeError(
          `cannot read idp-certificate-authority ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
        );
      }
    }
    return data ? Buffer.from(data, 'base64') : undefined;
  }
}
