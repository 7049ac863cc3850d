/**
 * TEST-ONLY: a fault-injecting proxy on loopback in front of the test cluster's kube-apiserver.
 * The plugin talks to it with --server http://127.0.0.1:PORT; the proxy forwards over TLS with the
 * cluster's CA. A test decides, request by request, to forward, answer itself, delay, or cut a watch,
 * can act between the plugin's requests (a concurrent writer before a PATCH), and can stop and start
 * the proxy to play an API server that goes away and comes back.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

export interface ProxyRequest {
  method: string;
  url: string;
  /** performance.now() when the request arrived, and when its answer was sent (forwarded requests). */
  startedAt?: number;
  endedAt?: number;
}

export type Fault =
  | { respond: number; headers?: Record<string, string>; body?: string }
  | { delayMs: number }
  | { cutAfterMs: number };

/** Called before a request is forwarded; it may do other API calls first, and may return a fault. */
export type BeforeForward = (request: ProxyRequest) => Promise<Fault | undefined> | Fault | undefined;

export interface ApiProxyOptions {
  /** Serve HTTPS with this certificate and key (kubectl sends credentials only over TLS). */
  tls?: { cert: Buffer; key: Buffer };
  /** Rewrite the Authorization header before forwarding (e.g. an OIDC id-token to a known token). */
  authorization?: (value: string | undefined) => string | undefined;
}

export interface ApiProxy {
  url: string;
  requests: ProxyRequest[];
  /** Refuse connections, as a stopped API server does. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): void;
}

export async function startApiProxy(
  clusterDir: string,
  server: string,
  before: BeforeForward = () => undefined,
  options: ApiProxyOptions = {},
): Promise<ApiProxy> {
  const ca = readFileSync(path.join(clusterDir, 'pki', 'apiserver.crt'));
  const target = new URL(server);
  const agent = new https.Agent({ ca, keepAlive: true });
  const requests: ProxyRequest[] = [];
  const handler = async (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => {
    const startedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const request: ProxyRequest = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', startedAt };
    requests.push(request);
    outgoing.on('finish', () => {
      request.endedAt = performance.now();
    });
    const fault = await before(request);
    if (fault && 'respond' in fault) {
      outgoing.writeHead(fault.respond, { 'Content-Type': 'application/json', ...fault.headers });
      outgoing.end(
        fault.body ??
          JSON.stringify({ kind: 'Status', code: fault.respond, message: `injected ${fault.respond}` }),
      );
      return;
    }
    if (fault && 'delayMs' in fault) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    const headers = { ...incoming.headers, host: target.host };
    if (options.authorization) {
      const mapped = options.authorization(incoming.headers.authorization);
      if (mapped === undefined) delete headers.authorization;
      else headers.authorization = mapped;
    }
    const forward = https.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: incoming.url,
        method: incoming.method,
        headers,
        agent,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
        if (fault && 'cutAfterMs' in fault) {
          setTimeout(() => {
            response.destroy();
            outgoing.destroy();
          }, fault.cutAfterMs);
        }
      },
    );
    forward.on('error', () => outgoing.destroy());
    outgoing.on('close', () => forward.destroy());
    forward.end(Buffer.concat(chunks));
  };
  const proxy = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  // Upgrades (the probe's port-forward WebSocket) go through as raw bytes once the request is sent on.
  const upgraded = new Set<Duplex>();
  proxy.on('upgrade', (incoming: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push({ method: incoming.method ?? 'GET', url: incoming.url ?? '/' });
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    const upstream = tls.connect({ host: target.hostname, port: Number(target.port), ca }, () => {
      const forwarded: http.IncomingHttpHeaders = { ...incoming.headers, host: target.host };
      if (options.authorization)
        forwarded.authorization = options.authorization(incoming.headers.authorization);
      const headers = Object.entries(forwarded).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((item) => `${name}: ${item}`),
      );
      upstream.write([`${incoming.method} ${incoming.url} HTTP/1.1`, ...headers, '', ''].join('\r\n'));
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as { port: number }).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
        // An upgraded connection is no longer the HTTP server's: end it as a stopped server would.
        for (const socket of upgraded) socket.destroy();
      }),
    start: () => new Promise((resolve) => proxy.listen(port, '127.0.0.1', () => resolve())),
    close: () => {
      for (const socket of upgraded) socket.destroy();
      proxy.closeAllConnections();
      proxy.close();
      agent.destroy();
    },
  };
}
