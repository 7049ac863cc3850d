/**
 * The CA behind the certificates: which CA an issuer signs with now, and whether a leaf still comes
 * from it. A CA Issuer's CA is the kubernetes.io/tls Secret `spec.ca.secretName`, in the Issuer's
 * namespace, or for a ClusterIssuer in cert-manager's --cluster-resource-namespace (cert-manager
 * pkg/issuer/ca/setup.go, pkg/controller/context.go `IssuerOptions.ResourceNamespace`). The signer is
 * the first certificate of its tls.crt; the root is the last one, or ca.crt when the Secret has it
 * (cert-manager pkg/issuer/ca/issue.go hands out the last certificate of the chain as ca.crt).
 * Only public certificates are handled here: the CA's tls.key is never parsed, kept or printed.
 */
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import type { Issuer, IssuerRef } from '../kubedb/types.ts';
import { issuedBy, parseCaCertificates, parseCertificates, publicKeyOf } from './x509.ts';

/** cert-manager's Helm chart installs into this namespace, its usual --cluster-resource-namespace. */
export const defaultClusterResourceNamespace = 'cert-manager';

export const certManagerGroup = 'cert-manager.io';
const issuerKinds = ['Issuer', 'ClusterIssuer'];

/** A kind or apiGroup KubeDB cannot use: nothing will ever be signed. Undefined when the reference is valid. */
export function invalidIssuerRef(ref: IssuerRef): string | undefined {
  const group = ref.apiGroup ?? certManagerGroup;
  const kind = ref.kind ?? 'Issuer';
  if (issuerKinds.includes(kind) && group === certManagerGroup) return undefined;
  return `spec.tls.issuerRef names kind "${kind}" in apiGroup "${group}": KubeDB needs kind Issuer or ClusterIssuer in apiGroup ${certManagerGroup}, so no certificate will ever be signed`;
}

/** The issuer's type: the one key of its spec that cert-manager knows (ca, acme, vault, venafi, selfSigned). */
export function issuerType(issuer: Issuer): string {
  const spec = issuer.spec ?? {};
  return (
    ['ca', 'acme', 'vault', 'venafi', 'selfSigned'].find((key) => key in spec) ??
    Object.keys(spec)[0] ??
    'unknown'
  );
}

/** Where the CA of a CA-type issuer lives; undefined for other types. */
export function caSecretOf(
  issuer: Issuer,
  ref: { cluster: boolean; namespace: string },
  clusterResourceNamespace: string,
): { namespace: string; name: string } | undefined {
  const ca = issuer.spec?.ca as { secretName?: unknown } | undefined;
  if (!ca || typeof ca.secretName !== 'string' || !ca.secretName) return undefined;
  return { namespace: ref.cluster ? clusterResourceNamespace : ref.namespace, name: ca.secretName };
}

/** The public part of a CA: tls.crt's chain and ca.crt, as PEM. */
export interface CaPems {
  tlsCrt: string;
  caCrt?: string;
}

export interface CaCertificateFacts {
  subject: string;
  serialNumber: string;
  notAfter: string;
}

export interface CaLineage {
  signer: X509Certificate;
  root: X509Certificate;
  /** The signer is not its own root: an intermediate CA. */
  intermediate: boolean;
}

/** Signer and root of a CA's public certificates; a message when there is no certificate to read. */
export function caLineage(pems: CaPems): CaLineage | string {
  let chain: X509Certificate[];
  let roots: X509Certificate[];
  try {
    chain = parseCaCertificates(pems.tlsCrt);
    roots = parseCaCertificates(pems.caCrt ?? '');
  } catch (error) {
    return `the CA does not parse: ${(error as Error).message}`;
  }
  const signer = chain[0];
  if (!signer) return 'the CA holds no PEM certificate in tls.crt';
  const root = roots.at(-1) ?? (chain.at(-1) as X509Certificate);
  const selfSigned = issuedBy(signer, signer);
  return { signer, root, intermediate: !selfSigned };
}

export function caFacts(certificate: X509Certificate): CaCertificateFacts {
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    serialNumber: certificate.serialNumber.toLowerCase(),
    notAfter: new Date(certificate.validTo).toISOString(),
  };
}

/**
 * Whether the leaf's signature verifies with the signer's key. A CA renewed or cross-signed with the
 * same key still verifies, as it does for clients (they build chains by name and key, not by serial).
 */
export function signedBy(leafPem: string, signer: X509Certificate): boolean {
  const [leaf] = parseCertificates(leafPem);
  return Boolean(leaf && issuedBy(leaf, signer));
}

/** Whether a ca.crt holds the root, or the same root renewed (same subject and key). */
export function holdsRoot(caCrtPem: string | undefined, root: X509Certificate): boolean {
  const rootKey = publicKeyOf(root);
  try {
    return parseCaCertificates(caCrtPem ?? '').some(
      (certificate) =>
        certificate === root ||
        (certificate.subject === root.subject && publicKeyOf(certificate).equals(rootKey)),
    );
  } catch {
    return false;
  }
}

/** --ca-file: the public certificates of a PEM file (any private key in it is ignored). */
export function readCaFile(path: string): CaPems {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--ca-file: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new UsageError(`--ca-file: ${path} holds no PEM certificate`);
  try {
    parseCertificates(blocks.join('\n'));
  } catch (error) {
    throw new UsageError(`--ca-file: ${path} does not parse: ${(error as Error).message}`);
  }
  return { tlsCrt: `${blocks.join('\n')}\n` };
}
