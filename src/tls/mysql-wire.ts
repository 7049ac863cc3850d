/**
 * The MySQL protocol's way into TLS, as a client that never logs in: read the server's HandshakeV10
 * greeting, answer with an SSLRequest when it offers CLIENT_SSL, run the TLS handshake on the same
 * stream and report what the server presented. This is what `openssl s_client -starttls mysql`
 * does (MySQL's protocol documentation: Connection Phase, Protocol::HandshakeV10 and
 * Protocol::SSLRequest; SingleStore speaks the same protocol on 3306).
 * Nothing after the handshake is sent: no user, no password, no query.
 */
import type { X509Certificate } from 'node:crypto';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/** Capability flags (MySQL include/mysql_com.h). */
const clientProtocol41 = 0x0200;
const clientSsl = 0x0800;
const clientSecureConnection = 0x8000;
const maxPacketSize = 0x0100_0000;
const utf8GeneralCi = 33;

export interface Greeting {
  serverVersion: string;
  offersTls: boolean;
}

export interface TlsSession {
  /** The certificates the server sent, leaf first. */
  chain: X509Certificate[];
  /** `TLSv1.3`, `TLSv1.2`, ... */
  protocol: string;
  cipher: string;
  /** Whether the server asked for a client certificate; unknown under TLS 1.3, where that is encrypted. */
  certificateRequested?: boolean;
}

export type HandshakeOutcome =
  | ({ kind: 'tls'; greeting: Greeting } & TlsSession)
  | { kind: 'no-tls'; greeting: Greeting }
  | { kind: 'handshake-failed'; greeting: Greeting; message: string }
  /** The server answered with an error packet (too many connections, host blocked) or not MySQL at all. */
  | { kind: 'server-error'; message: string };

export interface HandshakeOptions {
  /** Presented when the server asks; never sent anywhere else. */
  clientCertificate?: { cert: string; key: string };
  /** SNI; MySQL servers ignore it, but it is what a client dialling that name would send. */
  servername?: string;
  /** Restrict the versions offered (the legacy-version check offers only TLS 1.0 and 1.1). */
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
  /** Aborted at the time limit or on Ctrl-C: the stream is destroyed and the promise rejects. */
  signal: AbortSignal;
  /** Shares TLS contexts between handshakes of the same settings (many pods in one run). */
  contexts?: TlsContexts;
}

type ContextSettings = Pick<HandshakeOptions, 'minVersion' | 'maxVersion' | 'ciphers'> & {
  cert?: string;
  key?: string;
};

/**
 * TLS client contexts by their settings. A context holds the parsed client key and certificate and
 * the cipher list: built once per set of settings instead of once per handshake.
 */
export class TlsContexts {
  private readonly contexts = new Map<string, tls.SecureContext>();

  get(settings: ContextSettings): tls.SecureContext {
    const key = JSON.stringify([
      settings.minVersion,
      settings.maxVersion,
      settings.ciphers,
      settings.cert,
      settings.key,
    ]);
    let context = this.contexts.get(key);
    if (!context) {
      context = tls.createSecureContext(settings);
      this.contexts.set(key, context);
    }
    return context;
  }
}

function contextSettings(options: HandshakeOptions): ContextSettings {
  return {
    ...(options.clientCertificate ?? {}),
    ...(options.minVersion ? { minVersion: options.minVersion } : {}),
    ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
    ...(options.ciphers ? { ciphers: options.ciphers } : {}),
  };
}

/** Reads the greeting, then upgrades to TLS if the server offers it. The caller owns the stream. */
export async function mysqlTlsHandshake(
  stream: Duplex,
  options: HandshakeOptions,
): Promise<HandshakeOutcome> {
  const packet = await readPacket(stream, options.signal);
  if (packet.payload[0] === 0xff)
    return { kind: 'server-error', message: errorPacketMessage(packet.payload) };
  const greeting = parseGreeting(packet.payload);
  if (!greeting) {
    return {
      kind: 'server-error',
      message: 'the port does not speak the MySQL protocol (no HandshakeV10 greeting)',
    };
  }
  if (!greeting.offersTls) return { kind: 'no-tls', greeting };
  stream.write(sslRequest(packet.sequence + 1));
  const tap = certificateRequestTap();
  try {
    const session = await handshake(tapped(stream, tap.observe), options);
    return {
      kind: 'tls',
      greeting,
      ...session,
      ...(session.protocol === 'TLSv1.3' ? {} : { certificateRequested: tap.seen() }),
    };
  } catch (error) {
    if (options.signal.aborted) throw error;
    return { kind: 'handshake-failed', greeting, message: (error as Error).message };
  }
}

interface Packet {
  sequence: number;
  payload: Buffer;
}

/** One protocol packet: a 3-byte little-endian length, a sequence byte, the payload. */
function readPacket(stream: Duplex, signal: AbortSignal): Promise<Packet> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (error: Error | undefined, packet?: Packet, rest?: Buffer) => {
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('end', onEnd);
      signal.removeEventListener('abort', onAbort);
      if (error) return reject(error);
      stream.pause();
      if (rest?.length) stream.unshift(rest);
      resolve(packet as Packet);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      const length = buffered.readUIntLE(0, 3);
      if (buffered.length < 4 + length) return;
      done(
        undefined,
        { sequence: buffered[3] as number, payload: buffered.subarray(4, 4 + length) },
        buffered.subarray(4 + length),
      );
    };
    const onError = (error: Error) => done(error);
    const onEnd = () => done(new Error('the server closed the connection without a greeting'));
    const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.on('error', onError);
    stream.on('end', onEnd);
  });
}

/** Protocol::HandshakeV10: protocol 10, version string, thread id, 8 bytes of scramble, filler, capabilities. */
export function parseGreeting(payload: Buffer): Greeting | undefined {
  if (payload[0] !== 10) return undefined;
  const versionEnd = payload.indexOf(0, 1);
  if (versionEnd < 0 || payload.length < versionEnd + 1 + 4 + 8 + 1 + 2) return undefined;
  const serverVersion = payload.subarray(1, versionEnd).toString('latin1');
  const capabilities = payload.readUInt16LE(versionEnd + 1 + 4 + 8 + 1);
  return { serverVersion, offersTls: (capabilities & clientSsl) !== 0 };
}

/** Protocol::ERR_Packet: 0xff, error code, optional '#' + SQL state, message. */
function errorPacketMessage(payload: Buffer): string {
  const code = payload.readUInt16LE(1);
  let text = payload.subarray(3);
  if (text[0] === 0x23) text = text.subarray(6);
  return `the server answered with error ${code}: ${text.toString('utf8')}`;
}

/** Protocol::SSLRequest: capabilities with CLIENT_SSL, max packet size, character set, 23 zero bytes. */
export function sslRequest(sequence: number): Buffer {
  const packet = Buffer.alloc(4 + 32);
  packet.writeUIntLE(32, 0, 3);
  packet[3] = sequence & 0xff;
  packet.writeUInt32LE(clientProtocol41 | clientSsl | clientSecureConnection, 4);
  packet.writeUInt32LE(maxPacketSize, 8);
  packet[12] = utf8GeneralCi;
  return packet;
}

function handshake(stream: Duplex, options: HandshakeOptions): Promise<TlsSession> {
  return new Promise((resolve, reject) => {
    const settings = contextSettings(options);
    const socket = tls.connect({
      socket: stream,
      // The probe reports what the server presents and checks it itself; it refuses nothing.
      rejectUnauthorized: false,
      ...(options.servername ? { servername: options.servername } : {}),
      ...(options.contexts ? { secureContext: options.contexts.get(settings) } : settings),
    });
    const onAbort = () =>
      socket.destroy(options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    options.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      options.signal.removeEventListener('abort', onAbort);
      // The certificates as sent, parsed once by OpenSSL; getPeerCertificate(true) would also turn
      // every field of each into JavaScript strings (the RSA modulus in hex among them).
      const chain: X509Certificate[] = [];
      let certificate = socket.getPeerX509Certificate();
      while (certificate && !chain.some((seen) => seen.fingerprint256 === certificate?.fingerprint256)) {
        chain.push(certificate);
        certificate = certificate.issuerCertificate;
      }
      resolve({
        chain,
        protocol: socket.getProtocol() ?? 'unknown',
        cipher: socket.getCipher()?.standardName ?? socket.getCipher()?.name ?? 'unknown',
      });
      socket.destroy();
    });
    socket.once('error', (error) => {
      options.signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    socket.once('close', () =>
      reject(new Error('the server closed the connection during the TLS handshake')),
    );
  });
}

/**
 * The same stream, with every byte the server sends shown to `observe` first. TLS over a plain
 * socket reads the socket natively, past any JavaScript listener, hence a stream of our own.
 */
function tapped(inner: Duplex, observe: (chunk: Buffer) => void): Duplex {
  const outer = new Duplex({
    read() {
      inner.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      inner.write(chunk, callback);
    },
    final(callback) {
      inner.end();
      callback();
    },
    destroy(error, callback) {
      inner.destroy();
      callback(error);
    },
  });
  outer.on('error', () => {}); // TLS reports the failure; no uncaught exception after it has.
  inner.on('data', (chunk: Buffer) => {
    observe(chunk);
    if (!outer.push(chunk)) inner.pause();
  });
  inner.on('end', () => outer.push(null));
  inner.on('error', (error) => outer.destroy(error));
  return outer;
}

/**
 * Watches the server's TLS records for a CertificateRequest handshake message (type 13). Up to TLS
 * 1.2 the handshake travels in clear until ChangeCipherSpec, so this is a fact there (RFC 5246 7.4);
 * under TLS 1.3 it is encrypted and the caller reports "unknown".
 */
function certificateRequestTap(): { observe: (chunk: Buffer) => void; seen: () => boolean } {
  let records = Buffer.alloc(0);
  let handshakes = Buffer.alloc(0);
  let seen = false;
  let encrypted = false;
  const observe = (chunk: Buffer) => {
    if (encrypted || seen) return;
    records = Buffer.concat([records, chunk]);
    while (records.length >= 5) {
      const type = records[0];
      const length = records.readUInt16BE(3);
      if (records.length < 5 + length) return;
      const body = records.subarray(5, 5 + length);
      records = records.subarray(5 + length);
      if (type === 20) {
        encrypted = true;
        return;
      }
      if (type !== 22) continue;
      handshakes = Buffer.concat([handshakes, body]);
      while (handshakes.length >= 4) {
        const messageLength = handshakes.readUIntBE(1, 3);
        if (handshakes.length < 4 + messageLength) break;
        if (handshakes[0] === 13) seen = true;
        handshakes = handshakes.subarray(4 + messageLength);
      }
    }
  };
  return { observe, seen: () => seen };
}
