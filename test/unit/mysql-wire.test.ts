/**
 * The MySQL-protocol side of the probe against small servers of the test's own on loopback: a
 * greeting with and without CLIENT_SSL, an error packet, a port that breaks the handshake, a TLS 1.2
 * server that asks for a client certificate and one that does not. (The end-to-end tests run the
 * same code against real MariaDB servers behind a port-forward.)
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { after, test } from 'node:test';
import tls from 'node:tls';
import { mysqlTlsHandshake, parseGreeting, sslRequest, TlsContexts } from '../../src/tls/mysql-wire.ts';
import { forgeCertificate } from '../support/x509-forge.ts';

const day = 86_400_000;
const ca = forgeCertificate({
  commonName: 'wire-ca',
  notBefore: new Date(Date.now() - day),
  notAfter: new Date(Date.now() + 30 * day),
  isCA: true,
});
const server = forgeCertificate({
  commonName: 'db',
  dnsNames: ['localhost'],
  issuer: ca,
  notBefore: new Date(Date.now() - day),
  notAfter: new Date(Date.now() + 10 * day),
});
const servers: net.Server[] = [];
after(() => {
  for (const listener of servers) listener.close();
});

/** Protocol::HandshakeV10 as MariaDB sends it, with or without CLIENT_SSL. */
function greeting(offersTls: boolean): Buffer {
  const version = Buffer.from('5.5.5-10.11.19-MariaDB\0', 'latin1');
  const capabilities = 0xa20f | (offersTls ? 0x0800 : 0);
  const payload = Buffer.concat([
    Buffer.from([10]),
    version,
    Buffer.from([1, 0, 0, 0]),
    Buffer.alloc(8, 0x41),
    Buffer.from([0]),
    Buffer.from([capabilities & 0xff, capabilities >> 8]),
    Buffer.from([33, 2, 0, 0xff, 0x81, 21]),
    Buffer.alloc(10),
    Buffer.alloc(13, 0x42),
  ]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}

/** A server that greets, then hands the socket to `afterRequest` once the 36-byte SSLRequest arrived. */
async function listen(hello: Buffer, afterRequest?: (socket: net.Socket) => void): Promise<number> {
  const listener = net.createServer((socket) => {
    socket.write(hello);
    if (!afterRequest) return;
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 36) return;
      socket.off('data', onData);
      socket.pause();
      // The ClientHello may have come with the SSLRequest: TLS reads what the socket buffered.
      if (received.length > 36) socket.unshift(received.subarray(36));
      afterRequest(socket);
    };
    socket.on('data', onData);
  });
  servers.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return (listener.address() as net.AddressInfo).port;
}

/** A TLS server that never listens: it takes the sockets handed to it after the SSLRequest. */
function tlsOn(options: tls.TlsOptions): (socket: net.Socket) => void {
  const secure = tls.createServer({ key: server.keyPem, cert: server.pem, ...options });
  secure.on('tlsClientError', () => {});
  return (socket) => secure.emit('connection', socket);
}

async function handshakeWith(port: number, options: Partial<Parameters<typeof mysqlTlsHandshake>[1]> = {}) {
  const socket = net.connect(port, '127.0.0.1');
  try {
    return await mysqlTlsHandshake(socket, { signal: AbortSignal.timeout(3000), ...options });
  } finally {
    socket.destroy();
  }
}

test('the greeting and the SSLRequest follow the protocol', () => {
  const parsed = parseGreeting(greeting(true).subarray(4));
  assert.deepEqual(parsed, { serverVersion: '5.5.5-10.11.19-MariaDB', offersTls: true });
  assert.equal(parseGreeting(greeting(false).subarray(4))?.offersTls, false);
  assert.equal(parseGreeting(Buffer.from([9, 0])), undefined);
  const request = sslRequest(1);
  assert.equal(request.length, 36);
  assert.equal(request.readUIntLE(0, 3), 32);
  assert.equal(request[3], 1);
  assert.equal(request.readUInt32LE(4) & 0x0800, 0x0800);
  assert.ok(request.subarray(13).every((byte) => byte === 0));
});

test('a TLS 1.2 server that asks for a client certificate: the chain, version, cipher and the request', async () => {
  const port = await listen(
    greeting(true),
    tlsOn({ maxVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: false, ca: ca.pem }),
  );
  const outcome = await handshakeWith(port, { servername: 'localhost' });
  assert.equal(outcome.kind, 'tls');
  if (outcome.kind !== 'tls') return;
  assert.equal(outcome.protocol, 'TLSv1.2');
  assert.equal(outcome.certificateRequested, true);
  assert.equal(outcome.greeting.serverVersion, '5.5.5-10.11.19-MariaDB');
  assert.ok(outcome.chain[0]?.raw.equals(new X509Certificate(server.pem).raw), 'the served leaf');
});

test('a server that asks for nothing under TLS 1.2, and TLS 1.3 where the request is not visible', async () => {
  const plain = await listen(greeting(true), tlsOn({ maxVersion: 'TLSv1.2' }));
  const outcome = await handshakeWith(plain);
  assert.equal(outcome.kind === 'tls' && outcome.certificateRequested, false);
  const modern = await listen(
    greeting(true),
    tlsOn({ minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: false }),
  );
  const tls13 = await handshakeWith(modern);
  assert.equal(tls13.kind, 'tls');
  if (tls13.kind === 'tls') {
    assert.equal(tls13.protocol, 'TLSv1.3');
    assert.equal(tls13.certificateRequested, undefined);
  }
});

test('no CLIENT_SSL, an error packet, a broken handshake and legacy versions refused: each its own outcome', async () => {
  assert.equal((await handshakeWith(await listen(greeting(false)))).kind, 'no-tls');
  const err = Buffer.from([0xff, 0x69, 0x04, 0x23, ...Buffer.from('HY000Host is blocked', 'latin1')]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(err.length, 0, 3);
  const blocked = await handshakeWith(await listen(Buffer.concat([header, err])));
  assert.deepEqual(blocked, {
    kind: 'server-error',
    message: 'the server answered with error 1129: Host is blocked',
  });
  const garbage = await listen(greeting(true), (socket) => socket.end('this is not TLS\n'));
  const broken = await handshakeWith(garbage);
  assert.equal(broken.kind, 'handshake-failed');
  const modern = await listen(greeting(true), tlsOn({ minVersion: 'TLSv1.2' }));
  const legacy = await handshakeWith(modern, {
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT@SECLEVEL=0',
  });
  assert.equal(legacy.kind, 'handshake-failed');
});

test('a port that accepts and never answers ends at the signal, at once', async () => {
  const silent = net.createServer(() => {});
  servers.push(silent);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const started = performance.now();
  await assert.rejects(
    handshakeWith((silent.address() as net.AddressInfo).port, { signal: AbortSignal.timeout(300) }),
  );
  assert.ok(performance.now() - started < 1500);
});

test('shared TLS contexts: one per set of settings, and handshakes through them see the same', async () => {
  const contexts = new TlsContexts();
  assert.equal(contexts.get({ maxVersion: 'TLSv1.2' }), contexts.get({ maxVersion: 'TLSv1.2' }));
  assert.notEqual(contexts.get({ maxVersion: 'TLSv1.2' }), contexts.get({}));
  const port = await listen(greeting(true), tlsOn({ maxVersion: 'TLSv1.2' }));
  const [first, second] = await Promise.all([
    handshakeWith(port, { contexts, maxVersion: 'TLSv1.2' }),
    handshakeWith(port, { contexts, maxVersion: 'TLSv1.2' }),
  ]);
  assert.equal(first?.kind === 'tls' && first.protocol, 'TLSv1.2');
  assert.equal(
    second?.kind === 'tls' && second.chain[0]?.subject,
    first?.kind === 'tls' && first.chain[0]?.subject,
  );
  const legacy = await handshakeWith(port, { contexts, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
  assert.equal(legacy.kind, 'handshake-failed', 'the settings of the context apply');
});
