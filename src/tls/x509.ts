/**
 * What a TLS Secret really holds, read with Node's own crypto.X509Certificate: the leaf's validity,
 * serial, names and SANs, whether ca.crt signed it, and whether tls.key belongs to it. The private key
 * is parsed only to compare it with the certificate; it is never returned, logged or printed.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

export interface CertificateFacts {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  dnsNames: string[];
  ipAddresses: string[];
  isCA: boolean;
  /** Certificates in tls.crt (leaf first, then any intermediates). */
  chainLength: number;
}

export type KeyMatch = 'matches' | 'mismatch' | 'missing' | 'unreadable';
export type CaCheck = 'signed' | 'not-signed' | 'missing' | 'unreadable';

export interface SecretFacts {
  /** Undefined when tls.crt is missing or holds no certificate; `parseError` says why. */
  certificate?: CertificateFacts;
  parseError?: string;
  signedByCa: CaCheck;
  key: KeyMatch;
}

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function parseCertificates(pem: string): X509Certificate[] {
  return (pem.match(pemBlock) ?? []).map((block) => new X509Certificate(block));
}

/**
 * CA certificates, parsed once per PEM text: many databases share one CA, and -A over 2,000
 * databases parsed the same ca.crt 8,000 times. Leaves are not kept (each is read once or twice,
 * and keeping thousands costs more memory than parsing them again). A failure is not kept either.
 */
const parsedCas = new Map<string, readonly X509Certificate[]>();
const maxParsedCas = 1_000;

export function parseCaCertificates(pem: string): X509Certificate[] {
  let certificates = parsedCas.get(pem);
  if (!certificates) {
    certificates = parseCertificates(pem);
    if (parsedCas.size >= maxParsedCas) parsedCas.clear();
    parsedCas.set(pem, certificates);
  }
  return [...certificates];
}

const publicKeys = new WeakMap<X509Certificate, KeyObject>();
const signatures = new WeakMap<X509Certificate, WeakMap<X509Certificate, boolean>>();

/** The certificate's public key, made once (each `publicKey` read makes a new KeyObject). */
export function publicKeyOf(certificate: X509Certificate): KeyObject {
  let key = publicKeys.get(certificate);
  if (!key) {
    key = certificate.publicKey;
    publicKeys.set(certificate, key);
  }
  return key;
}

/**
 * Whether `parent` issued `child`: issuer name and signature, as chain building does (not
 * checkIssued, which also demands keyCertSign). Each pair is verified once.
 */
export function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  if (child.issuer !== parent.subject) return false;
  const verified = signatures.get(child) ?? new WeakMap<X509Certificate, boolean>();
  signatures.set(child, verified);
  let result = verified.get(parent);
  if (result === undefined) {
    result = child.verify(publicKeyOf(parent));
    verified.set(parent, result);
  }
  return result;
}

/** Inspect the decoded data of a kubernetes.io/tls Secret. */
export function inspectTlsData(data: {
  'tls.crt'?: string;
  'tls.key'?: string;
  'ca.crt'?: string;
}): SecretFacts {
  let chain: X509Certificate[];
  try {
    chain = parseCertificates(data['tls.crt'] ?? '');
  } catch (error) {
    return {
      parseError: `tls.crt does not parse: ${(error as Error).message}`,
      signedByCa: 'unreadable',
      key: 'unreadable',
    };
  }
  const leaf = chain[0];
  if (!leaf) {
    const why = data['tls.crt'] ? 'tls.crt holds no PEM certificate' : 'tls.crt is empty';
    return { parseError: why, signedByCa: 'unreadable', key: 'unreadable' };
  }
  return {
    certificate: certificateFacts(leaf, chain.length),
    signedByCa: checkCa(leaf, chain.slice(1), data['ca.crt']),
    key: checkKey(leaf, data['tls.key']),
  };
}

export function certificateFacts(leaf: X509Certificate, chainLength: number): CertificateFacts {
  const names = parseSubjectAltName(leaf.subjectAltName ?? '');
  return {
    subject: leaf.subject.replace(/\n/g, ', '),
    issuer: leaf.issuer.replace(/\n/g, ', '),
    serialNumber: leaf.serialNumber.toLowerCase(),
    notBefore: new Date(leaf.validFrom).toISOString(),
    notAfter: new Date(leaf.validTo).toISOString(),
    dnsNames: names.dns,
    ipAddresses: names.ip,
    isCA: leaf.ca,
    chainLength,
  };
}

/**
 * Whether cert-manager's status.notAfter names the same instant as a certificate's notAfter: the
 * status is RFC 3339 to the second, the certificate's time is parsed to the millisecond.
 */
export function sameNotAfter(status: string, certificate: string): boolean {
  return Math.abs(Date.parse(status) - Date.parse(certificate)) <= 1000;
}

/** Signed by ca.crt directly, or through intermediates shipped in tls.crt (or sent by a server). */
export function checkCa(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  caPem: string | undefined,
): CaCheck {
  if (!caPem?.trim()) return 'missing';
  let roots: X509Certificate[];
  try {
    roots = parseCaCertificates(caPem);
  } catch {
    return 'unreadable';
  }
  if (roots.length === 0) return 'unreadable';
  // A self-signed leaf is trusted when ca.crt holds that very certificate (cert-manager's SelfSigned issuer).
  if (roots.some((root) => root.raw.equals(leaf.raw))) return 'signed';
  const signs = issuedBy;
  let current = leaf;
  const pool = [...intermediates];
  for (let depth = 0; depth <= intermediates.length; depth++) {
    if (roots.some((root) => signs(current, root))) return 'signed';
    const next = pool.find((candidate) => signs(current, candidate));
    if (!next) return 'not-signed';
    pool.splice(pool.indexOf(next), 1);
    current = next;
  }
  return 'not-signed';
}

function checkKey(leaf: X509Certificate, keyPem: string | undefined): KeyMatch {
  if (!keyPem?.trim()) return 'missing';
  try {
    return leaf.checkPrivateKey(createPrivateKey(keyPem)) ? 'matches' : 'mismatch';
  } catch {
    return 'unreadable';
  }
}

export function parseSubjectAltName(text: string): { dns: string[]; ip: string[] } {
  const dns: string[] = [];
  const ip: string[] = [];
  for (const part of text.split(/,\s*/)) {
    const [kind, ...rest] = part.split(':');
    const value = rest.join(':');
    if (kind === 'DNS') dns.push(value);
    else if (kind === 'IP Address') ip.push(value.toLowerCase());
  }
  return { dns, ip };
}

/** RFC 6125 matching of one host against certificate DNS names (a wildcard covers one label). */
export function coversHost(dnsNames: string[], host: string): boolean {
  const target = host.toLowerCase();
  return dnsNames.some((name) => {
    const pattern = name.toLowerCase();
    if (!pattern.startsWith('*.')) return pattern === target;
    const suffix = pattern.slice(1);
    return (
      target.endsWith(suffix) &&
      !target.slice(0, -suffix.length).includes('.') &&
      target.length > suffix.length
    );
  });
}
