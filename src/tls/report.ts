/**
 * The `tls status` report: one view model for every output format. Its JSON form is a versioned
 * contract for scripts (README "tls status JSON"): fields may be added in a minor version, never
 * renamed or removed without bumping `apiVersion`.
 */
import type { PodProbe } from './probe.ts';

export const reportApiVersion = 'singlestore.tls.kubedb.com/v1';

export type Severity = 'critical' | 'warning' | 'info';
export type Health = 'OK' | 'WARNING' | 'CRITICAL';

/** The TLS path, in order: the first broken step is the one to fix first. */
export const steps = [
  'cert-manager',
  'issuer',
  'database',
  'certificate',
  'secret',
  'petset',
  'pods',
  'ops-request',
] as const;
export type Step = (typeof steps)[number];

export interface Finding {
  step: Step;
  severity: Severity;
  /** "Certificate demo/db-server-cert" */
  object: string;
  message: string;
  hint?: string;
}

export interface IssuerReport {
  kind: string;
  name: string;
  /** null: could not be checked (forbidden or not served). */
  found: boolean | null;
  ready: boolean | null;
  message?: string;
  /** The issuer's type: ca, acme, vault, venafi, selfSigned... */
  type?: string;
  /** The CA the issuer signs with now, and whether it was checked. */
  ca?: CaReport;
}

export interface CaCertificateReport {
  subject: string;
  serialNumber: string;
  notAfter: string;
}

export interface CaReport {
  checked: boolean;
  /** Why not: "forbidden (see the ca-check role)", "issuer type acme", "CA Secret ... not found"... */
  reason?: string;
  /** Where the CA came from: the issuer's Secret, or --ca-file. */
  source?: 'secret' | 'file';
  /** "namespace/name" of the CA Secret. */
  secret?: string;
  signer?: CaCertificateReport;
  root?: CaCertificateReport;
  /** The signer is an intermediate CA (not its own root). */
  intermediate?: boolean;
}

export interface X509Report {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  dnsNames: string[];
  ipAddresses: string[];
  signedByCa: string;
  keyMatchesCertificate: string;
  chainLength: number;
  /** Whether the issuer's current CA signed it; absent when the CA was not checked. */
  signedByIssuerCa?: 'signed' | 'not-signed';
  /** Whether ca.crt holds the issuer's current root; absent when not compared (not checked, intermediate CA). */
  caCrtIsIssuerRoot?: boolean;
}

export interface SecretReport {
  name: string;
  /** 'not-checked' when Secrets could not be read. */
  state: 'present' | 'missing' | 'not-checked';
  /** The Secret's type; anything but kubernetes.io/tls is a finding. */
  type?: string;
  keys?: string[];
  certificate?: X509Report;
  error?: string;
}

export interface CertificateReport {
  alias: string;
  name: string;
  state: 'present' | 'missing' | 'not-checked';
  ready: boolean | null;
  readyReason?: string;
  readyMessage?: string;
  ownedByDatabase?: boolean;
  revision?: number;
  notAfter?: string;
  renewalTime?: string;
  issuing?: boolean;
  lastFailureTime?: string;
  nextAttemptTime?: string;
  latestRequest?: { name: string; ready: boolean | null; reason?: string; message?: string };
  recentEvents?: string[];
  secret: SecretReport;
}

/**
 * What a pod serves, proven on the wire when the probe ran: `current` (the Secret's certificate),
 * `stale` (another one, usually the one before a renewal), `no-tls`, `failed` (refused, no answer,
 * handshake failure), or `not-probed` (probe off, forbidden, pod not running).
 */
export type Served = 'current' | 'stale' | 'no-tls' | 'failed' | 'not-probed';

export interface PodReport {
  name: string;
  /** When its containers started; compared with the certificate only where the wire was not read. */
  startedAt?: string;
  served: Served;
  probe?: PodProbe;
}

/** A client certificate this tool made for a database user (`tls client-cert`), checked like KubeDB's own. */
export interface ClientCertificateReport {
  user: string;
  name: string;
  ready: boolean | null;
  notAfter?: string;
  secret: SecretReport;
}

export interface PetSetReport {
  name: string;
  state: 'present' | 'missing' | 'not-checked';
  mountsTlsSecrets?: boolean;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  generation?: number;
  observedGeneration?: number;
  currentRevision?: string;
  updateRevision?: string;
  rolledOut?: boolean;
  /** Pods that serve an older certificate than the Secret's (probed), or started before it was issued (not probed). */
  stalePods?: string[];
  pods?: PodReport[];
}

export interface OpsRequestReport {
  name: string;
  type: string;
  phase: string;
  created?: string;
  message?: string;
}

export interface DatabaseReport {
  namespace: string;
  name: string;
  health: Health;
  phase: string;
  tls: {
    enabled: boolean;
    issuer?: IssuerReport;
    /** spec.tls.issuerRef as written; `issuer` is absent when its kind or apiGroup is unusable. */
    issuerRef?: { name: string; kind?: string; apiGroup?: string };
  };
  certificates: CertificateReport[];
  /** Client certificates made with `tls client-cert`; absent when there are none. */
  clientCertificates?: ClientCertificateReport[];
  petSets: PetSetReport[];
  opsRequests: OpsRequestReport[];
  /** Ordered along the TLS path: findings[0] is the first broken step. */
  findings: Finding[];
  /** Counts over the database's pods of what they serve; absent when no pod was probed. */
  served?: { pods: number; current: number; stale: number; noTls: number; failed: number; notProbed: number };
  /** Earliest notAfter of the certificates in the Secrets, and its days left. */
  earliestExpiry?: { notAfter: string; daysLeft: number };
}

export interface StatusReport {
  apiVersion: typeof reportApiVersion;
  kind: 'TLSStatusReport';
  generatedAt: string;
  scope: { namespace?: string; allNamespaces: boolean; name?: string; labelSelector?: string };
  warnWithinDays: number;
  /** Problems of the whole scope (cert-manager missing, nothing readable). */
  findings: Finding[];
  databases: DatabaseReport[];
  summary: { databases: number; ok: number; warning: number; critical: number; health: Health };
}

export function healthOf(findings: Finding[]): Health {
  if (findings.some((finding) => finding.severity === 'critical')) return 'CRITICAL';
  if (findings.some((finding) => finding.severity === 'warning')) return 'WARNING';
  return 'OK';
}
