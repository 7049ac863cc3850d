/**
 * TEST-ONLY: a plain-HTTP proxy on loopback in front of the test cluster's kube-apiserver, so a test
 * can act between the plugin's requests (a concurrent writer before a PATCH, say). The plugin talks to
 * it with --server http://127.0.0.1:PORT; the proxy forwards over TLS with the cluster's CA.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

export interface ProxyRequest {
  method: string;
  url: string;
}

/** Called before a request is forwarded; it may do other API calls first. */
export type BeforeForward = (request: ProxyRequest) => Promise<void>;

export async function startApiProxy(
  clusterDir: string,
  server: string,
  before: BeforeForward,
): Promise<{ url: string; close(): void }> {
  const ca = readFileSync(path.join(clusterDir, 'pki', 'apiserver.crt'));
  const target = new URL(server);
  const agent = new https.Agent({ ca, keepAlive: true });
  const proxy = http.createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    await before({ method: incoming.method ?? 'GET', url: incoming.url ?? '/' });
    const forward = https.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: incoming.url,
        method: incoming.method,
        headers: { ...incoming.headers, host: target.host },
        agent,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    forward.end(Buffer.concat(chunks));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      proxy.closeAllConnections();
      proxy.close();
      agent.destroy();
    },
  };
}
