/**
 * A small REST client for the Kubernetes API: requests, timeouts, watches, `-v` logging and error
 * messages, so every failure names what was attempted and nothing secret is logged. Credentials are
 * applied by credentials.ts.
 */
import http from 'node:http';
import https from 'node:https';
import { ApiError, InterruptedError } from '../errors.ts';
import { formatDuration } from '../util/duration.ts';
import type { Credentials } from './credentials.ts';
import type { KubeObject, ObjectList, WatchEvent } from './objects.ts';
import { maskHeaders, type RequestLog, redactBody } from './request-log.ts';
import { qualifiedName, type ResourceType, resourcePath } from './resources.ts';
import { ConnectTimeout, connectSignalOption, createAgent, ProxyError } from './transport.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'patch' | 'update' | 'delete';

/** What a request was for, so an error can say "cannot patch singlestores.kubedb.com "db1" in ...". */
export interface Action {
  verb: Verb;
  type: ResourceType;
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

export interface ListOptions {
  /** Omit for all namespaces. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

export interface WatchOptions extends ListOptions {
  resourceVersion?: string | undefined;
  /** Server-side end of the watch; the caller re-watches. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export type DryRun = 'none' | 'client' | 'server';

/** What every line about a dry-run write ends with (kubectl's " (dry run)"). */
export function dryRunNote(dryRun: DryRun): string {
  return dryRun === 'none' ? '' : ' (dry run)';
}
export type PatchType = 'merge' | 'json' | 'strategic';

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface ClientSettings {
  server: string;
  /** 0: no limit, as with kubectl's default --request-timeout. */
  requestTimeoutMs: number;
  /** For "unauthorized" messages. */
  userName: string;
  log: RequestLog;
  /** The proxy every connection goes through (transport.ts), if any. */
  proxy?: URL | undefined;
  /** SIGINT/SIGTERM: aborts every request in flight at once. */
  signal?: AbortSignal | undefined;
}

interface Response {
  status: number;
  body: string;
  contentType?: string;
  statusText?: string;
  /** The Authorization header the request carried, so a 401 can refresh exactly that credential. */
  authorization?: string;
  /** Seconds, from a Retry-After header. */
  retryAfter?: number;
}

/** Reads (GET) are retried on these answers; writes never are, since they may have landed. */
const retryableStatus = new Set([429, 500, 502, 503, 504]);
const retryableNetwork = new Set(['ECONNRESET', 'EPIPE']);
const maxReadRetries = 3;
const maxRetryDelayMs = 5000;
/** kubectl's and client-go's page size for LIST. */
export const defaultPageSize = 500;

/**
 * With no --request-timeout, a non-watch request whose connection stays silent this long is given up.
 * client-go detects a dead HTTP/2 connection with health pings (ReadIdleTimeout 30 s + PingTimeout
 * 15 s, k8s.io/apimachinery/pkg/util/net/http.go readIdleTimeoutSeconds/pingTimeoutSeconds); over
 * HTTP/1.1 silence is the only sign, so the same 45 s apply. Watches keep their own liveness.
 */
export const idleReadTimeoutMs = 45_000;

export class KubeClient {
  /** How many requests this client sent; tests and `-v 6` use it to prove constant request counts. */
  requestCount = 0;
  private readonly agent: http.Agent;
  private readonly baseUrl: URL;
  private readonly discovered = new Map<string, Promise<Set<string>>>();

  constructor(
    private readonly credentials: Credentials,
    private readonly settings: ClientSettings,
  ) {
    this.baseUrl = new URL(settings.server);
    this.agent = createAgent({
      secure: this.baseUrl.protocol === 'https:',
      proxy: settings.proxy,
      signal: settings.signal,
    });
  }

  get server(): string {
    return this.settings.server;
  }

  async get<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T> {
    const path = resourcePath(type, { namespace, name });
    return this.json<T>('GET', path, { body: undefined, action: { verb: 'get', type, namespace, name } });
  }

  /** GET that answers `undefined` for 404 instead of throwing. */
  async find<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(type, namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.isNotFound) return undefined;
      throw error;
    }
  }

  /** One LIST, never paginated: a cluster-wide view costs one request per kind. */
  async list<T extends KubeObject>(type: ResourceType, options: ListOptions = {}): Promise<ObjectList<T>> {
    const path = resourcePath(type, { namespace: options.namespace }) + query(selectorQuery(options));
    return this.json<ObjectList<T>>('GET', path, {
      body: undefined,
      action: {
        verb: 'list',
        type,
        namespace: options.namespace,
      },
    });
  }

  /**
   * LIST in pages of `limit` objects, as kubectl does (its --chunk-size defaults to 500,
   * k8s.io/kubectl/pkg/cmd/util/helpers.go DefaultChunkSize; the pager of
   * k8s.io/client-go/tools/pager/pager.go follows `metadata.continue` the same way). Each page is
   * handed to `onPage` and dropped before the next is asked for, so memory holds one page, not the
   * whole kind. An expired continue token (410) is an error: the caller's partial view would be
   * inconsistent.
   */
  async listPages<T extends KubeObject>(
    type: ResourceType,
    options: ListOptions & { limit?: number },
    onPage: (items: T[]) => void | Promise<void>,
  ): Promise<void> {
    const base = resourcePath(type, { namespace: options.namespace });
    const limit = String(options.limit ?? defaultPageSize);
    let token: string | undefined;
    do {
      const page: ObjectList<T> = await this.json(
        'GET',
        base + query({ ...selectorQuery(options), limit, continue: token }),
        { body: undefined, action: { verb: 'list', type, namespace: options.namespace } },
      );
      token = page.metadata?.continue || undefined;
      await onPage(page.items ?? []);
    } while (token);
  }

  async create<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    body: KubeObject,
    dryRun: DryRun = 'none',
  ): Promise<T> {
    const path = resourcePath(type, { namespace }) + query(dryRunQuery(dryRun));
    return this.json<T>('POST', path, {
      body,
      action: { verb: 'create', type, namespace, name: body.metadata.name },
    });
  }

  /** POST to a path outside the resource model (reviews); `what` names it in errors. */
  async createRaw<T>(path: string, body: unknown, what: string): Promise<T> {
    const response = await this.request({ method: 'POST', path, body, action: undefined });
    if (response.status >= 400) {
      throw new ApiError(`cannot ${what}: ${statusText(response)}`, response.status, String(response.status));
    }
    return parseJson<T>(response, `cannot ${what}`, this.settings.server);
  }

  /** GET of a path outside the resource model (`/version`); `what` names it in errors. */
  async getRaw<T>(path: string, what: string): Promise<T> {
    const response = await this.request({ method: 'GET', path, body: undefined, action: undefined });
    if (response.status >= 400) {
      throw new ApiError(
        `cannot ${what}: ${response.body.slice(0, 200)}`,
        response.status,
        String(response.status),
      );
    }
    return JSON.parse(response.body) as T;
  }

  async patch<T extends KubeObject>(
    type: ResourceType,
    object: { namespace: string | undefined; name: string },
    patch: unknown,
    options: { patchType?: PatchType; dryRun?: DryRun; subresource?: string } = {},
  ): Promise<T> {
    const { namespace, name } = object;
    const { patchType = 'merge', dryRun = 'none', subresource } = options;
    const path = resourcePath(type, { namespace, name, subresource }) + query(dryRunQuery(dryRun));
    return this.json<T>('PATCH', path, {
      body: patch,
      action: { verb: 'patch', type, namespace, name, subresource },
      contentType: patchContentTypes[patchType],
    });
  }

  /**
   * `gracePeriodSeconds: 0` force-deletes (a pod whose kubelet is gone); `uid` deletes only that
   * incarnation of the object (DeleteOptions.preconditions), so a replacement is never deleted by mistake.
   */
  async delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: { gracePeriodSeconds?: number; dryRun?: DryRun; uid?: string } = {},
  ): Promise<void> {
    const params = {
      ...dryRunQuery(options.dryRun ?? 'none'),
      gracePeriodSeconds: options.gracePeriodSeconds?.toString(),
    };
    const path = resourcePath(type, { namespace, name }) + query(params);
    const body = options.uid
      ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: options.uid } }
      : undefined;
    await this.json('DELETE', path, { body, action: { verb: 'delete', type, namespace, name } });
  }

  /** Whether the API server serves this type (its CRD is installed and established). */
  async serves(type: ResourceType): Promise<boolean> {
    const groupVersion = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    let pending = this.discovered.get(groupVersion);
    if (!pending) {
      pending = this.request({ method: 'GET', path: groupVersion, body: undefined, action: undefined }).then(
        (response) => {
          if (response.status === 404) return new Set<string>();
          const action: Action = { verb: 'get', type };
          if (response.status >= 400) throw apiError(response, action, this.settings.userName);
          const doc = parseJson<{ resources?: { name: string }[] }>(
            response,
            `cannot ${describe(action)}`,
            this.settings.server,
          );
          return new Set((doc.resources ?? []).map((resource) => resource.name));
        },
      );
      this.discovered.set(groupVersion, pending);
    }
    return (await pending).has(type.plural);
  }

  /**
   * One watch connection: yields events until the server ends it, the signal aborts, or the server
   * answers 410 Gone (thrown as ApiError with status 410, so the caller re-lists).
   */
  async *watch<T extends KubeObject>(
    type: ResourceType,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent<T>> {
    const params: Record<string, string | undefined> = {
      ...selectorQuery(options),
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: options.resourceVersion,
      timeoutSeconds: String(options.timeoutSeconds ?? 300),
    };
    const path = resourcePath(type, { namespace: options.namespace }) + query(params);
    const action: Action = { verb: 'watch', type, namespace: options.namespace };
    const stream = await this.openStream(path, action, options.signal);
    let buffered = '';
    try {
      for await (const chunk of stream) {
        buffered += chunk.toString('utf8');
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf('\n');
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent<T>;
          if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number; reason?: string; message?: string };
            throw new ApiError(
              `${describe(action)}: ${status.message ?? 'watch error'}`,
              status.code ?? 500,
              status.reason ?? 'WatchError',
            );
          }
          yield event;
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof ApiError) throw error;
      throw new ApiError(
        `${describe(action)}: the watch broke (${(error as Error).message})`,
        0,
        'WatchBroken',
      );
    } finally {
      stream.destroy();
    }
  }

  private async json<T>(
    method: string,
    path: string,
    sent: { body: unknown; action: Action; contentType?: string },
  ): Promise<T> {
    const { body, action, contentType = 'application/json' } = sent;
    const response = await this.request({ method, path, body, action, contentType });
    if (response.status >= 400) throw apiError(response, action, this.settings.userName);
    return parseJson<T>(response, `cannot ${describe(action)}`, this.settings.server);
  }

  /** Log a line at this verbosity (`-v`), for connections made outside this class (port-forward). */
  logAt(verbosity: number, line: string): void {
    if (this.settings.log.verbosity >= verbosity) this.settings.log.line(line);
  }

  /**
   * Everything a request to `path` needs: address, the agent (proxy, time limits), TLS material and
   * credential headers. Also what an upgrade (WebSocket port-forward) connects with.
   */
  async requestOptions(method: string, path: string): Promise<https.RequestOptions> {
    const url = new URL(this.baseUrl.pathname.replace(/\/$/, '') + path, this.baseUrl);
    const options: https.RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path: url.pathname + url.search,
      agent: this.agent,
      headers: { Accept: 'application/json', 'User-Agent': 'kubectl-singlestore' },
    };
    await this.credentials.apply(options);
    return options;
  }

  /** One request; a GET answered 429/5xx or cut by a reset is retried with back-off (Retry-After honoured). */
  private async request(request: {
    method: string;
    path: string;
    body: unknown;
    action: Action | undefined;
    contentType?: string;
  }): Promise<Response> {
    const { method, path, body, action, contentType = 'application/json' } = request;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const retry = method === 'GET' && attempt <= maxReadRetries;
      let response: Response;
      try {
        response = await this.send({ method, path, body, action, contentType });
      } catch (error) {
        const code = error instanceof ApiError ? error.reason : '';
        if (!retry || !retryableNetwork.has(code)) throw error;
        await this.pause({ method, path, attempt, retryAfter: undefined, why: code });
        continue;
      }
      // client-go's exec round tripper refreshes the credential once on a 401 (maybeRefreshCreds in
      // k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go) and returns the 401; a read is also
      // replayed here once with the new credential, a write never is.
      if (response.status === 401 && !refreshed && response.authorization !== undefined) {
        refreshed = true;
        if (this.credentials.unauthorized(response.authorization) && method === 'GET') continue;
      }
      if (!retry || !retryableStatus.has(response.status)) return response;
      await this.pause({
        method,
        path,
        attempt,
        retryAfter: response.retryAfter,
        why: String(response.status),
      });
    }
  }

  private async pause(retry: {
    method: string;
    path: string;
    attempt: number;
    retryAfter: number | undefined;
    why: string;
  }): Promise<void> {
    const { method, path, attempt, retryAfter, why } = retry;
    const ms = Math.min(
      retryAfter !== undefined ? retryAfter * 1000 : 200 * 2 ** (attempt - 1),
      maxRetryDelayMs,
    );
    const { log } = this.settings;
    if (log.verbosity >= 6)
      log.line(`${method} ${path}: ${why}; retrying in ${ms} ms (${attempt}/${maxReadRetries})`);
    const { signal } = this.settings;
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new InterruptedError());
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new InterruptedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async send(request: {
    method: string;
    path: string;
    body: unknown;
    action: Action | undefined;
    contentType: string;
  }): Promise<Response> {
    const { method, path, body, action, contentType } = request;
    const options = await this.requestOptions(method, path);
    const authorization = (options.headers as Record<string, string>).Authorization ?? '';
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      (options.headers as Record<string, string>)['Content-Type'] = contentType;
    }
    const { log, requestTimeoutMs } = this.settings;
    const url = `${this.settings.server.replace(/\/$/, '')}${path}`;
    if (log.verbosity >= 7)
      log.line(
        `Request Headers: ${JSON.stringify(maskHeaders({ ...(options.headers as Record<string, unknown>) }))}`,
      );
    const started = performance.now();
    this.requestCount++;
    return new Promise<Response>((resolve, reject) => {
      const request = this.start(options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => reject(this.networkError(error, action)));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (log.verbosity >= 6) {
            log.line(`${method} ${url} ${status} ${response.statusMessage ?? ''} in ${elapsed(started)}`);
          }
          if (log.verbosity >= 8) log.line(`Response Body: ${redactBody(text)}`);
          const retryAfter = Number(response.headers['retry-after']);
          resolve({
            status,
            body: text,
            contentType: String(response.headers['content-type'] ?? ''),
            statusText: response.statusMessage ?? '',
            authorization,
            ...(Number.isFinite(retryAfter) ? { retryAfter } : {}),
          });
        });
      });
      this.arm({ request, started, action, reject, limitMs: requestTimeoutMs, watch: false });
      request.end(payload);
    });
  }

  private async openStream(
    path: string,
    action: Action,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const options = await this.requestOptions('GET', path);
    const { log } = this.settings;
    const url = `${this.settings.server.replace(/\/$/, '')}${path}`;
    const started = performance.now();
    this.requestCount++;
    return new Promise((resolve, reject) => {
      if (signal?.aborted || this.settings.signal?.aborted) return reject(new InterruptedError());
      const request = this.start({ ...options, ...(signal ? { signal } : {}) }, (response) => {
        const status = response.statusCode ?? 0;
        if (log.verbosity >= 6) log.line(`GET ${url} ${status} (watch) in ${elapsed(started)}`);
        if (status >= 400) {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            reject(
              apiError(
                {
                  status,
                  body: Buffer.concat(chunks).toString('utf8'),
                  contentType: String(response.headers['content-type'] ?? ''),
                  statusText: response.statusMessage ?? '',
                },
                action,
                this.settings.userName,
              ),
            ),
          );
          return;
        }
        resolve(response);
      });
      this.arm({
        request,
        started,
        action,
        reject: (error) => reject(signal?.aborted ? new InterruptedError() : error),
        limitMs: 0,
        watch: true,
      });
      request.end();
    });
  }

  /**
   * The process-wide interrupt, combined with a request's own signal; and a signal for the
   * connection being made for this request, aborted when the request goes away first (a
   * --request-timeout), so a half-open connection never outlives it.
   */
  private start(
    options: https.RequestOptions,
    onResponse: (response: http.IncomingMessage) => void,
  ): http.ClientRequest {
    const signals = [options.signal, this.settings.signal].filter((signal) => signal !== undefined);
    const connecting = new AbortController();
    const transport = options.protocol === 'https:' ? https : http;
    const request = transport.request(
      {
        ...options,
        [connectSignalOption]: connecting.signal,
        ...(signals.length ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
      } as https.RequestOptions,
      onResponse,
    );
    // Until its socket arrives, a destroyed ClientRequest only records the error (Node's
    // ClientRequest.destroy): abandon the connection being made, so a --request-timeout or an
    // aborted watch ends now rather than when the dial or handshake limit runs out.
    const destroy = request.destroy.bind(request);
    request.destroy = (error?: Error) => {
      if (error && !request.socket) abandonedWith.set(request, error);
      connecting.abort();
      return destroy(error);
    };
    request.on('close', () => connecting.abort());
    return request;
  }

  /**
   * The overall --request-timeout when one is set (never for watches); else, for non-watch requests,
   * the idle-read limit. Dial and TLS-handshake limits live in the agent (transport.ts).
   */
  private arm(armed: {
    request: http.ClientRequest;
    started: number;
    action: Action | undefined;
    reject: (error: Error) => void;
    limitMs: number;
    watch: boolean;
  }): void {
    const { request, started, action, reject, limitMs } = armed;
    if (limitMs > 0) {
      const timer = setTimeout(() => request.destroy(new RequestTimeout(limitMs)), limitMs);
      request.on('close', () => clearTimeout(timer));
    } else if (!armed.watch) {
      request.setTimeout(idleReadTimeoutMs, () =>
        request.destroy(new RequestTimeout(idleReadTimeoutMs, 'idle')),
      );
    }
    request.on('error', (reported) => {
      if (this.settings.signal?.aborted) return reject(new InterruptedError());
      // The abandoned connection's "aborted" hides why the request was destroyed.
      const error = abandonedWith.get(request) ?? reported;
      const { log } = this.settings;
      if (log.verbosity >= 6)
        log.line(`request to ${this.settings.server} failed after ${elapsed(started)}: ${error.message}`);
      reject(this.networkError(error, action));
    });
  }

  private networkError(error: Error, action: Action | undefined): ApiError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const server = this.settings.server;
    const what = action ? `cannot ${describe(action)}: ` : '';
    if (error instanceof RequestTimeout) {
      const flag = this.settings.requestTimeoutMs > 0 ? ' (--request-timeout)' : '';
      const how = error.idle ? 'sent nothing for' : 'did not answer within';
      return new ApiError(
        `${what}the API server at ${server} ${how} ${formatDuration(error.afterMs)}${flag}`,
        0,
        'Timeout',
      );
    }
    if (error instanceof ConnectTimeout) {
      const step = {
        dial: 'no connection could be made within',
        tls: 'the TLS handshake did not complete within',
        proxy: 'the proxy did not answer within',
      }[error.step];
      return new ApiError(
        `${what}cannot reach the API server at ${server}: ${step} ${formatDuration(error.afterMs)}`,
        0,
        'Timeout',
      );
    }
    if (error instanceof ProxyError) {
      const via = this.settings.proxy ? ` through the proxy ${proxyName(this.settings.proxy)}` : '';
      return new ApiError(
        `${what}cannot reach the API server at ${server}${via}: ${error.message}`,
        0,
        'ProxyError',
      );
    }
    if (tlsErrorCodes.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) {
      return new ApiError(
        `${what}TLS verification of the API server at ${server} failed (${code}: ${error.message}); ` +
          `check the cluster's certificate-authority in the kubeconfig or --certificate-authority`,
        0,
        'TLSError',
      );
    }
    const reason = networkReasons[code] ?? error.message;
    const via = this.settings.proxy ? ` (via the proxy ${proxyName(this.settings.proxy)})` : '';
    return new ApiError(
      `${what}cannot reach the API server at ${server}${via}: ${reason}`,
      0,
      code || 'NetworkError',
    );
  }
}

/** Why a request was destroyed before it had a socket (see KubeClient.start). */
const abandonedWith = new WeakMap<http.ClientRequest, Error>();

class RequestTimeout extends Error {
  constructor(
    readonly afterMs: number,
    readonly idle?: 'idle',
  ) {
    super(`timed out after ${afterMs}ms`);
  }
}

/** The proxy's address without its credentials. */
function proxyName(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

const tlsErrorCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'EPROTO',
]);

const networkReasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the cluster running, and is the address right?)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (name resolution failed)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
};

function elapsed(started: number): string {
  return `${Math.round(performance.now() - started)} milliseconds`;
}

export function describe(action: Action): string {
  const sub = action.subresource ? `/${action.subresource}` : '';
  const name = action.name ? ` "${action.name}"` : '';
  let where = '';
  if (action.type.namespaced) {
    where = action.namespace ? ` in namespace "${action.namespace}"` : ' in all namespaces';
  }
  return `${action.verb} ${qualifiedName(action.type)}${sub}${name}${where}`;
}

interface Status {
  message?: string;
  reason?: string;
  code?: number;
}

/**
 * The answer's Status, or for a body that is not one (an HTML error page from a load balancer or
 * proxy in front of the API server) a one-line description instead of the page.
 */
function parseStatus(response: Response): Status & { foreign?: string } {
  try {
    const parsed = JSON.parse(response.body) as unknown;
    if (parsed && typeof parsed === 'object') return parsed as Status;
  } catch {}
  const body = response.body.trim();
  const html = /html/i.test(response.contentType ?? '') || /^<(!doctype|html|head|body)/i.test(body);
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
  const reason = response.statusText ?? '';
  const firstLine = body.split('\n')[0]?.slice(0, 120) ?? '';
  const foreign = html
    ? `an HTML page${title ? ` ("${title}")` : ''} instead of a Kubernetes API answer: is a proxy or load balancer in front of the API server failing?`
    : body
      ? `"${firstLine}"`
      : 'an empty answer';
  return { message: foreign, reason, foreign };
}

function statusText(response: Response): string {
  const status = parseStatus(response);
  if (status.foreign)
    return `${response.status} ${status.reason ?? ''}: ${status.foreign}`.replace(/\s+:/, ':');
  return status.message ?? String(response.status);
}

/** A 2xx answer's JSON body; anything else (an HTML page) is one clear line, never a SyntaxError. */
function parseJson<T>(response: Response, what: string, server: string): T {
  try {
    return JSON.parse(response.body) as T;
  } catch {
    const status = parseStatus(response);
    throw new ApiError(
      `${what}: the server at ${server} answered ${response.status} with ${status.foreign ?? 'something that is not JSON'}`,
      response.status,
      'NotJSON',
    );
  }
}

function apiError(response: Response, action: Action, userName: string): ApiError {
  const status = parseStatus(response);
  const message = status.message ?? '';
  let why: string;
  switch (response.status) {
    case 401:
      why = `unauthorized: the API server did not accept the credentials${userName ? ` of user "${userName}"` : ''}`;
      break;
    case 403: {
      const user = /User "([^"]*)"/.exec(message)?.[1];
      why = user !== undefined ? `forbidden for user "${user}"` : `forbidden: ${message}`;
      break;
    }
    case 404:
      why =
        action.name && !/the server could not find the requested resource/.test(message)
          ? 'not found'
          : `the API server does not serve ${qualifiedName(action.type)} (is its CRD installed?)`;
      break;
    case 409:
      why = `conflict: ${message}`;
      break;
    case 410:
      why = `gone: ${message}`;
      break;
    case 422:
      why = `invalid: ${message}`;
      break;
    default:
      why = `${response.status} ${status.reason ?? ''}: ${message}`.replace(/\s+:/, ':');
  }
  return new ApiError(
    `cannot ${describe(action)}: ${why}`,
    response.status,
    status.reason ?? String(response.status),
  );
}

function selectorQuery(options: ListOptions): Record<string, string | undefined> {
  return { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
}

function dryRunQuery(dryRun: DryRun): Record<string, string | undefined> {
  return { dryRun: dryRun === 'server' ? 'All' : undefined };
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}
