/**
 * A port-forward to one pod port through the API server, as a byte stream: the WebSocket
 * subprotocol `v4.channel.k8s.io` of the pods/portforward subresource (k8s.io/apiserver
 * pkg/util/wsstream and k8s.io/kubelet pkg/cri/streaming/portforward/websocket.go). Each forwarded
 * port has two channels, data (0) and error (1); every frame starts with its channel byte, and the
 * first frame the server sends on each channel carries the port number (2 bytes, little endian).
 * A port listed n times gets n independent connections inside the pod (channels 2i and 2i+1), so
 * several handshakes cost one WebSocket.
 * The connection is made with the client's own options (server, TLS, credentials, agent), so the
 * forward reaches the pod exactly as every other request of the plugin reaches the API server.
 */
import { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { ApiError } from '../errors.ts';
import { describe as describeAction, type KubeClient } from './client.ts';
import { Resources, resourcePath } from './resources.ts';

export const portForwardProtocol = 'v4.channel.k8s.io';

/** Why a forward could not be opened or broke: forbidden, no such pod, the port refused, or else. */
export type ForwardFailure = 'forbidden' | 'not-found' | 'refused' | 'error';

export class PortForwardError extends ApiError {
  constructor(
    message: string,
    readonly failure: ForwardFailure,
    status = 0,
  ) {
    super(message, status, failure);
  }
}

export interface ForwardTarget {
  namespace: string;
  pod: string;
  /** One connection inside the pod per entry; a port may repeat. */
  ports: number[];
  /** Aborting closes the forward at once (time limit, Ctrl-C). */
  signal: AbortSignal;
}

/**
 * Opens the forward; resolves with one duplex stream per entry of `ports` once the WebSocket is
 * open. Errors the server reports on an entry's error channel (a refused connection in the pod)
 * destroy that stream with a PortForwardError; closing the WebSocket ends them all.
 */
export async function openPortForward(client: KubeClient, target: ForwardTarget): Promise<Duplex[]> {
  const ports = target.ports.map((port) => `ports=${port}`).join('&');
  const path = `${resourcePath(Resources.pod, { namespace: target.namespace, name: target.pod, subresource: 'portforward' })}?${ports}`;
  const action = {
    verb: 'get' as const,
    type: Resources.pod,
    namespace: target.namespace,
    name: target.pod,
    subresource: 'portforward',
  };
  const options = await client.requestOptions('GET', path);
  // No Accept header: the kubelet's streaming server (go-restful) answers 406 to `application/json`
  // on an upgrade, and kubectl sends none.
  const { Accept: _accept, ...headers } = (options.headers ?? {}) as Record<string, string>;
  options.headers = headers;
  const base = new URL(client.server);
  const url = `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.host}${base.pathname.replace(/\/$/, '')}${path}`;
  // Loaded here, not with the module: a status without the probe never opens a WebSocket.
  const { default: WebSocketClient } = await import('ws');
  const started = performance.now();
  client.requestCount++;
  const socket = new WebSocketClient(url, [portForwardProtocol], {
    ...options,
    perMessageDeflate: false,
    followRedirects: false,
  } as WebSocket.ClientOptions);
  const what = `cannot ${describeAction(action)}`;

  return new Promise<Duplex[]>((resolve, reject) => {
    const abort = () => {
      socket.terminate();
      reject(new PortForwardError(`${what}: aborted`, 'error'));
    };
    if (target.signal.aborted) return abort();
    target.signal.addEventListener('abort', abort, { once: true });
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        client.logAt(
          6,
          `GET ${url} ${status} (port-forward) in ${Math.round(performance.now() - started)} ms`,
        );
        reject(upgradeError(what, status, Buffer.concat(chunks).toString('utf8')));
        socket.terminate();
      });
    });
    socket.once('error', (error) => reject(new PortForwardError(`${what}: ${error.message}`, 'error')));
    socket.once('open', () => {
      target.signal.removeEventListener('abort', abort);
      client.logAt(6, `GET ${url} 101 (port-forward) in ${Math.round(performance.now() - started)} ms`);
      resolve(forwardStreams(socket, { what, count: target.ports.length, signal: target.signal }));
    });
  });
}

function upgradeError(what: string, status: number, body: string): PortForwardError {
  let message = body.trim().slice(0, 300);
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? message;
  } catch {
    // not a Status object: keep the text
  }
  if (status === 403) {
    const user = /User "([^"]*)"/.exec(message)?.[1];
    return new PortForwardError(
      `${what}: forbidden${user !== undefined ? ` for user "${user}"` : `: ${message}`}`,
      'forbidden',
      status,
    );
  }
  if (status === 404) return new PortForwardError(`${what}: not found`, 'not-found', status);
  return new PortForwardError(`${what}: ${status} ${message}`.trim(), 'error', status);
}

/** Each forwarded connection as a Duplex over its data channel; its error channel ends it. */
function forwardStreams(
  socket: WebSocket,
  settings: { what: string; count: number; signal: AbortSignal },
): Duplex[] {
  const { what, signal } = settings;
  const portHeaderSeen = new Set<number>();
  let open = settings.count;
  const streams = Array.from({ length: settings.count }, (_, index) => {
    const channel = Buffer.from([index * 2]);
    return new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        if (socket.readyState !== socket.OPEN) {
          callback(new PortForwardError(`${what}: the forward is closed`, 'error'));
          return;
        }
        socket.send(Buffer.concat([channel, chunk]), { binary: true }, callback);
      },
      destroy(error, callback) {
        // The WebSocket carries every connection: it goes when the last one does.
        if (--open === 0) {
          signal.removeEventListener('abort', onAbort);
          socket.terminate();
        }
        callback(error);
      },
    });
  });
  for (const stream of streams) {
    // An error can end a connection after its reader has gone (a time limit fired first): it must not
    // become an uncaught exception. Readers attach listeners of their own.
    stream.on('error', () => {});
  }
  const onAbort = () => {
    for (const stream of streams) stream.destroy(new PortForwardError(`${what}: aborted`, 'error'));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  socket.on('message', (message: Buffer) => {
    const channel = message[0];
    if (channel === undefined) return;
    let payload = message.subarray(1);
    if (!portHeaderSeen.has(channel)) {
      // The first frame of each channel is the port number.
      portHeaderSeen.add(channel);
      payload = payload.subarray(2);
    }
    const stream = streams[Math.floor(channel / 2)];
    if (payload.length === 0 || !stream) return;
    if (channel % 2 === 0) {
      stream.push(payload);
    } else {
      // The pod side failed (its port refused the connection, the container is gone): nothing more comes.
      const text = payload.toString('utf8').trim();
      const failure: ForwardFailure = /refused/i.test(text) ? 'refused' : 'error';
      stream.destroy(new PortForwardError(text, failure));
    }
  });
  socket.on('close', () => {
    for (const stream of streams) stream.push(null);
  });
  socket.on('error', (error) => {
    for (const stream of streams) stream.destroy(new PortForwardError(`${what}: ${error.message}`, 'error'));
  });
  return streams;
}
