/**
 * TEST-ONLY: small forward proxies on loopback, as found in corporate networks and bastions.
 * - an HTTP CONNECT proxy (optionally requiring Basic credentials),
 * - a SOCKS5 proxy (optionally requiring user/password, RFC 1929),
 * each resolving some host names itself (`hosts`), names the machine cannot resolve: a request
 * that reaches such a name went through the proxy. Each counts the tunnels it opened.
 */
import http from 'node:http';
import net from 'node:net';

export interface TestProxy {
  url: string;
  port: number;
  /** "host:port" of every tunnel opened, in order. */
  tunnels: string[];
  /** Requests refused for missing or wrong credentials. */
  refused: number;
  close(): void;
}

export interface ProxyOptions {
  /** "user:password" the proxy requires. */
  credentials?: string;
  /** Names only the proxy resolves, e.g. { 'kubernetes.default.svc': '127.0.0.1' }. */
  hosts?: Record<string, string>;
}

function pipeTo(
  client: net.Socket,
  host: string,
  port: number,
  hosts: Record<string, string>,
  onOpen: () => void,
) {
  const upstream = net.connect({ host: hosts[host] ?? host, port }, onOpen);
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  return upstream;
}

export async function startConnectProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const hosts = options.hosts ?? {};
  const sockets = new Set<net.Socket>();
  const state: TestProxy = { url: '', port: 0, tunnels: [], refused: 0, close: () => {} };
  const server = http.createServer((_request, response) => {
    response.writeHead(405).end('CONNECT only');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (request, client: net.Socket, head: Buffer) => {
    if (options.credentials) {
      const expected = `Basic ${Buffer.from(options.credentials).toString('base64')}`;
      if (request.headers['proxy-authorization'] !== expected) {
        state.refused++;
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
        return;
      }
    }
    const target = request.url ?? '';
    const separator = target.lastIndexOf(':');
    const host = target.slice(0, separator).replace(/^\[|\]$/g, '');
    const port = Number(target.slice(separator + 1));
    state.tunnels.push(target);
    const upstream = pipeTo(client, host, port, hosts, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  });
  return listen(server, 'http', { state, sockets });
}

async function listen(
  server: net.Server,
  scheme: string,
  parts: { state: TestProxy; sockets: Set<net.Socket> },
): Promise<TestProxy> {
  const { state, sockets } = parts;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.url = `${scheme}://127.0.0.1:${state.port}`;
  state.close = () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  return state;
}

export async function startSocksProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const hosts = options.hosts ?? {};
  const sockets = new Set<net.Socket>();
  const state: TestProxy = { url: '', port: 0, tunnels: [], refused: 0, close: () => {} };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' = 'greeting';
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 'greeting') {
        if (buffer.length < 2 || buffer.length < 2 + (buffer[1] ?? 0)) return;
        const methods = [...buffer.subarray(2, 2 + (buffer[1] ?? 0))];
        buffer = buffer.subarray(2 + (buffer[1] ?? 0));
        const wanted = options.credentials ? 2 : 0;
        if (!methods.includes(wanted)) {
          state.refused++;
          client.end(Buffer.from([5, 0xff]));
          return;
        }
        client.write(Buffer.from([5, wanted]));
        stage = wanted ? 'auth' : 'request';
      }
      if (stage === 'auth') {
        const userLength = buffer[1] ?? 0;
        if (buffer.length < 3 + userLength) return;
        const passwordLength = buffer[2 + userLength] ?? 0;
        if (buffer.length < 3 + userLength + passwordLength) return;
        const user = buffer.subarray(2, 2 + userLength).toString();
        const password = buffer.subarray(3 + userLength, 3 + userLength + passwordLength).toString();
        buffer = buffer.subarray(3 + userLength + passwordLength);
        if (`${user}:${password}` !== options.credentials) {
          state.refused++;
          client.end(Buffer.from([1, 1]));
          return;
        }
        client.write(Buffer.from([1, 0]));
        stage = 'request';
      }
      if (stage === 'request') {
        if (buffer.length < 5) return;
        const type = buffer[3];
        const length = type === 1 ? 10 : type === 4 ? 22 : 7 + (buffer[4] ?? 0);
        if (buffer.length < length) return;
        const host =
          type === 1
            ? [...buffer.subarray(4, 8)].join('.')
            : type === 3
              ? buffer.subarray(5, 5 + (buffer[4] ?? 0)).toString()
              : '::1';
        const port = buffer.readUInt16BE(length - 2);
        const rest = buffer.subarray(length);
        client.removeListener('data', onData);
        state.tunnels.push(`${host}:${port}`);
        const upstream = pipeTo(client, host, port, hosts, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          if (rest.length) upstream.write(rest);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('error', () => client.end(Buffer.from([5, 4, 0, 1, 0, 0, 0, 0, 0, 0])));
      }
    };
    client.on('data', onData);
  });
  return listen(server, 'socks5', { state, sockets });
}
