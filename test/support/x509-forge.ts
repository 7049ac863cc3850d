/**
 * TEST-ONLY: makes X.509 certificates with chosen properties (validity, SANs, issuer, key) so the
 * tests can build broken Secrets that cert-manager would never write: expired, not yet valid, signed
 * by another CA, with the wrong key. Plain DER encoding signed with Node's crypto; ECDSA P-256.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { isIP } from 'node:net';

export interface Forged {
  pem: string;
  keyPem: string;
  key: KeyObject;
  subject: string;
}

export interface ForgeOptions {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames?: string[];
  ipAddresses?: string[];
  isCA?: boolean;
  /** Signs the certificate; self-signed when absent. */
  issuer?: Forged;
  /** Use this key pair instead of a new one. */
  keyPem?: string;
}

export function newKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

export function forgeCertificate(options: ForgeOptions): Forged {
  const keyPem = options.keyPem ?? newKeyPem();
  const key = createPrivateKey(keyPem);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const signer = options.issuer ?? { key, subject: options.commonName };
  const extensions: Buffer[] = [];
  if (options.isCA) extensions.push(extension('2.5.29.19', true, sequence(der(0x01, Buffer.from([0xff])))));
  const names = [
    ...(options.dnsNames ?? []).map((name) => der(0x82, Buffer.from(name, 'ascii'))),
    ...(options.ipAddresses ?? []).map((ip) => der(0x87, ipBytes(ip))),
  ];
  if (names.length) extensions.push(extension('2.5.29.17', false, sequence(...names)));
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const tbs = sequence(
    der(0xa0, integer(Buffer.from([2]))),
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    ecdsaWithSha256,
    name(signer.subject),
    sequence(time(options.notBefore), time(options.notAfter)),
    name(options.commonName),
    spki,
    ...(extensions.length ? [der(0xa3, sequence(...extensions))] : []),
  );
  const signature = sign('sha256', tbs, signer.key);
  const certificate = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const body = certificate
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return {
    pem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    keyPem,
    key,
    subject: options.commonName,
  };
}

function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const header =
    length < 0x80
      ? Buffer.from([tag, length])
      : length < 0x100
        ? Buffer.from([tag, 0x81, length])
        : Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  return Buffer.concat([header, content]);
}

function sequence(...parts: Buffer[]): Buffer {
  return der(0x30, Buffer.concat(parts));
}

function integer(bytes: Buffer): Buffer {
  return der(
    0x02,
    bytes[0] !== undefined && bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes,
  );
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [first * 40 + second];
  for (const value of rest) {
    const chunk = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function name(commonName: string): Buffer {
  return sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName, 'utf8')))));
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? der(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : der(0x18, Buffer.from(`${iso}Z`));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  throw new Error(`only IPv4 is supported here: ${ip}`);
}
