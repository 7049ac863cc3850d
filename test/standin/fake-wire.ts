/**
 * TEST-ONLY. What a real MariaDB server cannot play behind a pod's port (the `wire` switch of
 * runtime.ts): a port that accepts TCP and never sends a byte, and a server that offers TLS in its
 * greeting and then answers the SSLRequest with bytes that are not TLS.
 * The greeting is a MySQL HandshakeV10 packet (MySQL client/server protocol, "Protocol::HandshakeV10";
 * MariaDB sql/sql_acl.cpp send_server_handshake_packet).
 */
import net from 'node:net';

/** Capability flags of the greeting (include/mysql_com.h). */
const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SSL = 0x800;
const CLIENT_TRANSACTIONS = 0x2000;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_PLUGIN_AUTH = 0x80000;
/** An SSLRequest is a 4-byte packet header and 32 bytes of payload. */
const sslRequestLength = 4 + 32;

/** A HandshakeV10 greeting packet (sequence 0), offering TLS when `ssl`. */
export function handshakeV10(options: { ssl: boolean; connectionId?: number }): Buffer {
  const capabilities =
    CLIENT_LONG_PASSWORD |
    CLIENT_CONNECT_WITH_DB |
    CLIENT_PROTOCOL_41 |
    CLIENT_TRANSACTIONS |
    CLIENT_SECURE_CONNECTION |
    CLIENT_PLUGIN_AUTH |
    (options.ssl ? CLIENT_SSL : 0);
  const scramble = Buffer.from('0123456789abcdefghij'); // 20 bytes of auth-plugin-data
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10);
  let at = fixed.writeUInt32LE(options.connectionId ?? 1, 0);
  at += scramble.copy(fixed, at, 0, 8);
  at = fixed.writeUInt8(0, at); // filler
  at = fixed.writeUInt16LE(capabilities & 0xffff, at);
  at = fixed.writeUInt8(0x21, at); // utf8_general_ci
  at = fixed.writeUInt16LE(0x0002, at); // SERVER_STATUS_AUTOCOMMIT
  at = fixed.writeUInt16LE(capabilities >>> 16, at);
  fixed.writeUInt8(scramble.length + 1, at); // auth-plugin-data length; 10 reserved zero bytes follow
  const payload = Buffer.concat([
    Buffer.from([0x0a]),
    Buffer.from('5.7.32-standin-fake-wire\0'),
    fixed,
    scramble.subarray(8),
    Buffer.from([0]),
    Buffer.from('mysql_native_password\0'),
  ]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}

export interface FakeServer {
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:port; `serve` handles each connection; close() also drops open connections. */
function listen(port: number, serve: (socket: net.Socket) => void): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    serve(socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** `blackhole`: accepts TCP and never sends a byte (what a hung server or a black-holing proxy does). */
export function blackhole(port: number): Promise<FakeServer> {
  return listen(port, (socket) => socket.resume());
}

/**
 * `bad-tls`: a greeting that offers TLS (CLIENT_SSL), then, once the client's SSLRequest has arrived,
 * plain text where the server's TLS handshake should be, so the client's TLS handshake fails. The
 * answer is sent before closing: kwok's port-forward tunnel waits for both directions to close, and a
 * server that closed without a byte would leave the client waiting.
 */
export function badTls(port: number): Promise<FakeServer> {
  return listen(port, (socket) => {
    socket.write(handshakeV10({ ssl: true }));
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (received >= sslRequestLength && !socket.writableEnded) {
        socket.end('this is not TLS: the stand-in plays a broken server\r\n');
      }
    });
  });
}
