/**
 * The connection path of every request to the API server (plain requests, watches and upgrades such
 * as the WebSocket port-forward): an http(s).Agent whose connections are dialled directly or through
 * the proxy client-go would use, with client-go's dial and TLS-handshake limits.
 *
 * - Which proxy: the cluster's `proxy-url` (http, https or socks5, as clientcmd's parseProxyURL
 *   accepts), else HTTPS_PROXY/https_proxy (HTTP_PROXY/http_proxy for an http server) and
 *   NO_PROXY/no_proxy, read as Go's golang.org/x/net/http/httpproxy does (client-go's default
 *   `Proxy: http.ProxyFromEnvironment`, k8s.io/client-go/transport/cache.go).
 * - How: an http/https proxy gets a CONNECT tunnel (with Proxy-Authorization from the URL's
 *   credentials); a socks5 proxy gets the RFC 1928 handshake (RFC 1929 user/password when the URL has
 *   credentials) with the host name resolved by the proxy, as golang.org/x/net/proxy does.
 *   An http:// API server is tunnelled too (Go would forward absolute-URI requests instead).
 * - Limits (k8s.io/client-go/transport/cache.go): dial 30 s, TLS handshake 10 s; an https proxy's
 *   own handshake is verified with the cluster's TLS settings, as Go's Transport does.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { UsageError } from '../errors.ts';

export const dialTimeoutMs = 30_000;
export const tlsHandshakeTimeoutMs = 10_000;

/** A connection step that ran out of time; the client words it ("did not complete the TLS handshake"). */
export class ConnectTimeout extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly step: 'dial' | 'tls' | 'proxy',
    readonly afterMs: number,
  ) {
    super(`${step} timed out after ${afterMs} ms`);
  }
}

/** The proxy refused or failed the tunnel (its status line, or a SOCKS reply code). */
export class ProxyError extends Error {
  readonly code = 'EPROXY';
}

/** clientcmd's parseProxyURL (k8s.io/client-go/tools/clientcmd/client_config.go). */
export function parseProxyUrl(text: string, clusterName: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`cluster "${clusterName}": proxy-url "${text}" is not a URL`);
  }
  if (!['http:', 'https:', 'socks5:'].includes(url.protocol)) {
    throw new UsageError(
      `cluster "${clusterName}": proxy-url scheme "${url.protocol.slice(0, -1)}" is not supported: use http, https or socks5`,
    );
  }
  return url;
}

/**
 * The proxy Go's http.ProxyFromEnvironment picks for `target`, or undefined for a direct connection
 * (golang.org/x/net/http/httpproxy/proxy.go: getEnvAny, parseProxy, useProxy, config.init).
 */
export function proxyFromEnvironment(target: URL, env: Record<string, string | undefined>): URL | undefined {
  const any = (...names: string[]) => names.map((name) => env[name]).find((value) => value) ?? '';
  const raw =
    target.protocol === 'https:' ? any('HTTPS_PROXY', 'https_proxy') : any('HTTP_PROXY', 'http_proxy');
  // Go ignores HTTP_PROXY in a CGI environment (REQUEST_METHOD set).
  if (!raw || (target.protocol === 'http:' && env.REQUEST_METHOD)) return undefined;
  const proxy = parseEnvProxy(raw);
  if (!proxy) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return useProxy(host, port, any('NO_PROXY', 'no_proxy')) ? proxy : undefined;
}

function parseEnvProxy(raw: string): URL | undefined {
  // "Proxy was bogus. Try prepending "http://" to it and see if that parses correctly."
  for (const candidate of [raw, `http://${raw}`]) {
    try {
      const url = new URL(candidate);
      if (url.host && ['http:', 'https:', 'socks5:', 'socks5h:'].includes(url.protocol)) return url;
    } catch {}
  }
  return undefined;
}

function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const ipVersion = net.isIP(host);
  if (ipVersion && isLoopback(host)) return false;
  for (let entry of noProxy.split(',')) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return false;
    if (entry.includes('/')) {
      if (ipVersion && inCidr(host, entry)) return false;
      continue;
    }
    let entryHost = entry;
    let entryPort = '';
    const hostPort = /^\[(.*)\]:(\d+)$/.exec(entry) ?? /^([^:]*):(\d+)$/.exec(entry);
    if (hostPort) [, entryHost = '', entryPort = ''] = hostPort;
    if (!entryHost) continue;
    if (net.isIP(entryHost)) {
      if (ipVersion && sameIp(host, entryHost) && (!entryPort || entryPort === port)) return false;
      continue;
    }
    if (entryHost.startsWith('*.')) entryHost = entryHost.slice(1);
    const matchHost = !entryHost.startsWith('.');
    const suffix = matchHost ? `.${entryHost}` : entryHost;
    if ((host.endsWith(suffix) || (matchHost && host === entryHost)) && (!entryPort || entryPort === port))
      return false;
  }
  return true;
}

function isLoopback(ip: string): boolean {
  return net.isIPv4(ip) ? ip.startsWith('127.') : sameIp(ip, '::1');
}

function sameIp(a: string, b: string): boolean {
  const list = new net.BlockList();
  list.addAddress(b, net.isIPv4(b) ? 'ipv4' : 'ipv6');
  return list.check(a, net.isIPv4(a) ? 'ipv4' : 'ipv6');
}

function inCidr(ip: string, cidr: string): boolean {
  const [network = '', bits = ''] = cidr.split('/');
  const family = net.isIPv4(network) ? 'ipv4' : net.isIPv6(network) ? 'ipv6' : undefined;
  if (!family || !/^\d+$/.test(bits)) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(network, Number(bits), family);
    return list.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}

type ConnectOptions = tls.ConnectionOptions & { host?: string | null; port?: number | string | null };
type Callback = (error: Error | null, socket?: net.Socket) => void;

/**
 * The socket a connection attempt is working on, so an abort (the interrupt, or the request that
 * asked for the connection going away) destroys it at once, whatever step it is in.
 */
interface Attempt {
  current: net.Socket | undefined;
  aborted: boolean;
}

function track<T extends net.Socket>(attempt: Attempt, socket: T): T {
  attempt.current = socket;
  if (attempt.aborted) socket.destroy(abortError());
  return socket;
}

/** Dial host:port with the 30 s limit. */
function dial(host: string, port: number, attempt: Attempt): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = track(attempt, net.connect({ host, port }));
    const timer = setTimeout(() => socket.destroy(new ConnectTimeout('dial', dialTimeoutMs)), dialTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
  });
}

/** TLS over `options.socket` with the 10 s handshake limit. */
function handshake(options: tls.ConnectionOptions, attempt: Attempt): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = track(attempt, tls.connect(options));
    const timer = setTimeout(
      () => socket.destroy(new ConnectTimeout('tls', tlsHandshakeTimeoutMs)),
      tlsHandshakeTimeoutMs,
    );
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
}

function abortError(): Error {
  return Object.assign(new Error('aborted'), { code: 'ABORT_ERR', name: 'AbortError' });
}

/** Read from `socket` until `complete(buffer)` says how many bytes the answer has (or -1: need more). */
function readAnswer(socket: net.Socket, complete: (data: Buffer) => number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(new ConnectTimeout('proxy', dialTimeoutMs)), dialTimeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('end', onEnd);
    };
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const length = complete(data);
      if (length < 0) return;
      cleanup();
      socket.pause();
      if (data.length > length) socket.unshift(data.subarray(length));
      resolve(data.subarray(0, length));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onEnd = () => {
      cleanup();
      reject(new ProxyError('the proxy closed the connection'));
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('end', onEnd);
    socket.resume();
  });
}

/** An HTTP CONNECT tunnel (Go's net/http Transport.dialConn for an http/https proxy). */
async function connectTunnel(socket: net.Socket, proxy: URL, target: string): Promise<void> {
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (proxy.username || proxy.password) {
    const user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(user).toString('base64')}`);
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const answer = await readAnswer(socket, (data) => {
    const end = data.indexOf('\r\n\r\n');
    return end < 0 ? -1 : end + 4;
  });
  const status = answer.toString('latin1').split('\r\n')[0] ?? '';
  if (!/^HTTP\/1\.[01] 2\d\d/.test(status)) {
    throw new ProxyError(`the proxy refused the tunnel: ${status.replace(/^HTTP\/1\.[01] /, '')}`);
  }
}

const socksReplies: Record<number, string> = {
  1: 'general failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** RFC 1928 CONNECT, RFC 1929 user/password (golang.org/x/net/internal/socks/client.go). */
async function socksConnect(socket: net.Socket, proxy: URL, host: string, port: number): Promise<void> {
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  const withAuth = user !== '' || password !== '';
  socket.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]));
  const method = await readAnswer(socket, (data) => (data.length >= 2 ? 2 : -1));
  if (method[0] !== 5) throw new ProxyError('the proxy does not speak SOCKS5');
  if (method[1] === 2) {
    const u = Buffer.from(user);
    const p = Buffer.from(password);
    socket.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    const status = await readAnswer(socket, (data) => (data.length >= 2 ? 2 : -1));
    if (status[1] !== 0) throw new ProxyError('the SOCKS5 proxy rejected the user name and password');
  } else if (method[1] !== 0) {
    throw new ProxyError('the SOCKS5 proxy accepts none of the offered authentication methods');
  }
  let address: Buffer;
  if (net.isIPv4(host)) address = Buffer.from([1, ...host.split('.').map(Number)]);
  else if (net.isIPv6(host)) address = Buffer.concat([Buffer.from([4]), ipv6Bytes(host)]);
  else address = Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host)]);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, Buffer.from([port >> 8, port & 255])]));
  const reply = await readAnswer(socket, (data) => {
    if (data.length < 5) return -1;
    const length = data[3] === 1 ? 10 : data[3] === 4 ? 22 : 7 + (data[4] ?? 0);
    return data.length >= length ? length : -1;
  });
  if (reply[1] !== 0) {
    throw new ProxyError(`the SOCKS5 proxy could not connect: ${socksReplies[reply[1] ?? 1] ?? 'failure'}`);
  }
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const parts = (text: string) => (text ? text.split(':') : []);
  const left = parts(head);
  const right = parts(tail);
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.from(groups.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 255]));
}

/** One connection to the API server, through `proxy` when set; any of `signals` aborts it. */
async function openConnection(
  options: ConnectOptions,
  secure: boolean,
  proxy: URL | undefined,
  signals: AbortSignal[],
): Promise<net.Socket> {
  const attempt: Attempt = { current: undefined, aborted: false };
  const onAbort = () => {
    attempt.aborted = true;
    attempt.current?.destroy(abortError());
  };
  for (const signal of signals) {
    if (signal.aborted) throw abortError();
    signal.addEventListener('abort', onAbort, { once: true });
  }
  try {
    return await connectThrough(options, { secure, proxy, attempt });
  } finally {
    for (const signal of signals) signal.removeEventListener('abort', onAbort);
  }
}

async function connectThrough(
  options: ConnectOptions,
  route: { secure: boolean; proxy: URL | undefined; attempt: Attempt },
): Promise<net.Socket> {
  const { secure, proxy, attempt } = route;
  const host = String(options.host ?? 'localhost').replace(/^\[|\]$/g, '');
  const port = Number(options.port ?? (secure ? 443 : 80));
  let socket: net.Socket;
  if (!proxy) {
    socket = await dial(host, port, attempt);
  } else {
    const proxyPort = Number(proxy.port || { 'http:': 80, 'https:': 443 }[proxy.protocol] || 1080);
    const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
    socket = await dial(proxyHost, proxyPort, attempt);
    try {
      if (proxy.protocol === 'https:') {
        const { ca, cert, key, rejectUnauthorized } = options;
        socket = await handshake(
          {
            socket,
            ca,
            cert,
            key,
            ...(rejectUnauthorized === false ? { rejectUnauthorized } : {}),
            ...(net.isIP(proxyHost) ? {} : { servername: proxyHost }),
          },
          attempt,
        );
      }
      if (proxy.protocol.startsWith('socks5')) await socksConnect(socket, proxy, host, port);
      else await connectTunnel(socket, proxy, net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }
  if (!secure) {
    // The proxy handshake paused the socket; an HTTP server speaks only after the request.
    socket.resume();
    return socket;
  }
  try {
    return await handshake({ ...options, socket }, attempt);
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

export interface AgentSettings {
  secure: boolean;
  proxy: URL | undefined;
  /** Aborts connections being made (SIGINT/SIGTERM). */
  signal?: AbortSignal | undefined;
}

/**
 * A request option the agent reads: aborting it abandons the connection being made for that
 * request (Node's agent passes request options on to createConnection, but not `signal`).
 */
export const connectSignalOption = 'connectSignal';

/**
 * The client's agent. Node's Agent accepts a createConnection that answers through its callback
 * (lib/_http_agent.js createSocket), which lets the proxy handshake and the limits run first.
 */
export function createAgent(settings: AgentSettings): http.Agent {
  // TLS sessions resumed per agent key, as https.Agent does for the connections it makes itself
  // (lib/https.js createConnection): the wire probe opens a WebSocket per pod, and a resumed
  // handshake spares both sides the key exchange and signature.
  const sessions = new Map<string, Buffer>();
  // One TLS context per agent key (the key holds the CA, certificate and key): building a context
  // parses the CA and the key, which the probe's WebSocket per pod would otherwise repeat each time.
  const contexts = new Map<string, tls.SecureContext>();
  const contextFor = (key: string, options: ConnectOptions) => {
    let context = contexts.get(key);
    if (!context) {
      const { ca, cert, key: privateKey } = options;
      context = tls.createSecureContext({ ca, cert, key: privateKey });
      contexts.set(key, context);
    }
    return context;
  };
  const create = (
    options: ConnectOptions & { connectSignal?: AbortSignal; _agentKey?: string },
    callback: Callback,
  ): undefined => {
    const signals = [settings.signal, options.connectSignal].filter((signal) => signal !== undefined);
    const key = settings.secure ? options._agentKey : undefined;
    const session = key ? sessions.get(key) : undefined;
    const secureContext = key ? contextFor(key, options) : undefined;
    openConnection(
      { ...options, ...(session ? { session } : {}), ...(secureContext ? { secureContext } : {}) },
      settings.secure,
      settings.proxy,
      signals,
    ).then(
      (socket) => {
        if (key) socket.on('session', (ticket: Buffer) => sessions.set(key, ticket));
        callback(null, socket);
      },
      (error: Error) => callback(error),
    );
    return undefined;
  };
  const AgentClass = settings.secure ? https.Agent : http.Agent;
  const agent = new AgentClass({ keepAlive: true });
  (agent as unknown as { createConnection: typeof create }).createConnection = create;
  return agent;
}
