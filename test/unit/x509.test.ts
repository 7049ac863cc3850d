import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  coversHost,
  inspectTlsData,
  issuedBy,
  parseCaCertificates,
  parseCertificates,
  parseSubjectAltName,
} from '../../src/tls/x509.ts';
import { forgeCertificate } from '../support/x509-forge.ts';

const now = Date.now();
const day = 86_400_000;
const root = forgeCertificate({
  commonName: 'root-ca',
  notBefore: new Date(now - day),
  notAfter: new Date(now + 365 * day),
  isCA: true,
});
const intermediate = forgeCertificate({
  commonName: 'intermediate-ca',
  notBefore: new Date(now - day),
  notAfter: new Date(now + 365 * day),
  isCA: true,
  issuer: root,
});
const leaf = forgeCertificate({
  commonName: 'db',
  notBefore: new Date(now - day),
  notAfter: new Date(now + 30 * day),
  dnsNames: ['db.demo.svc'],
  issuer: intermediate,
});

test('a chain in tls.crt (leaf, then intermediate) verifies up to ca.crt', () => {
  const facts = inspectTlsData({
    'tls.crt': leaf.pem + intermediate.pem,
    'tls.key': leaf.keyPem,
    'ca.crt': root.pem,
  });
  assert.equal(facts.signedByCa, 'signed');
  assert.equal(facts.certificate?.chainLength, 2);
  assert.equal(facts.certificate?.subject, 'CN=db');
  assert.equal(
    inspectTlsData({ 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': root.pem }).signedByCa,
    'not-signed',
  );
  assert.equal(
    inspectTlsData({ 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': intermediate.pem }).signedByCa,
    'signed',
  );
});

test('keys in other encodings are compared, never rejected for their format', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const pkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  for (const keyPem of [pkcs1, pkcs8]) {
    const cert = forgeCertificate({
      commonName: 'rsa',
      notBefore: new Date(now - day),
      notAfter: new Date(now + day),
      issuer: root,
      keyPem,
    });
    assert.equal(
      inspectTlsData({ 'tls.crt': cert.pem, 'tls.key': keyPem, 'ca.crt': root.pem }).key,
      'matches',
    );
  }
  const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'sec1', format: 'pem' })
    .toString();
  assert.equal(inspectTlsData({ 'tls.crt': leaf.pem, 'tls.key': sec1, 'ca.crt': root.pem }).key, 'mismatch');
  assert.equal(
    inspectTlsData({
      'tls.crt': leaf.pem,
      'tls.key': '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      'ca.crt': root.pem,
    }).key,
    'unreadable',
  );
});

test('garbage PEM: no certificate, a reason, nothing thrown', () => {
  assert.equal(inspectTlsData({ 'tls.crt': 'hello' }).parseError, 'tls.crt holds no PEM certificate');
  assert.match(
    inspectTlsData({ 'tls.crt': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' })
      .parseError ?? '',
    /^tls.crt does not parse/,
  );
  assert.equal(inspectTlsData({ 'tls.crt': leaf.pem, 'ca.crt': 'junk' }).signedByCa, 'unreadable');
  assert.equal(inspectTlsData({ 'tls.crt': leaf.pem }).signedByCa, 'missing');
});

test('SAN parsing and hostname coverage (a wildcard covers exactly one label)', () => {
  assert.deepEqual(parseSubjectAltName('DNS:a.example, IP Address:127.0.0.1, DNS:*.b.example'), {
    dns: ['a.example', '*.b.example'],
    ip: ['127.0.0.1'],
  });
  assert.ok(coversHost(['*.db-pods.demo.svc'], 'db-0.db-pods.demo.svc'));
  assert.ok(!coversHost(['*.db-pods.demo.svc'], 'a.b.db-pods.demo.svc'));
  assert.ok(!coversHost(['*.db-pods.demo.svc'], 'db-pods.demo.svc'));
  assert.ok(coversHost(['DB.demo.svc'], 'db.demo.svc'));
});

test('a CA is parsed once per PEM text and each signature checked once, with the same answers', () => {
  const [first] = parseCaCertificates(root.pem);
  const again = parseCaCertificates(root.pem);
  assert.ok(first && again[0] === first, 'the same parsed certificate');
  again.pop();
  assert.equal(parseCaCertificates(root.pem).length, 1, "a caller's array is its own");
  const [child] = parseCertificates(intermediate.pem);
  assert.ok(child);
  assert.equal(issuedBy(child, first), true);
  assert.equal(issuedBy(child, first), true, 'the kept answer');
  assert.equal(issuedBy(first, child), false, 'issuer name differs');
  const [other] = parseCertificates(
    forgeCertificate({
      commonName: 'root-ca',
      notBefore: new Date(now - day),
      notAfter: new Date(now + day),
      isCA: true,
    }).pem,
  );
  assert.ok(other);
  assert.equal(issuedBy(child, other), false, 'same name, another key: the signature decides');
  assert.throws(() => parseCaCertificates('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'));
});
