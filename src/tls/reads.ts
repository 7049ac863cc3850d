/**
 * What gather reads, before it is reduced to facts: the shapes both ways of reading share (one
 * database by name, many by paged lists), and the rules for turning a refused or unserved read into
 * data instead of an abort.
 */
import { ApiError } from '../errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import { tlsCertificates } from '../kubedb/naming.ts';
import type { Certificate, Issuer, OpsRequest, PetSet, Pod, Secret, Singlestore } from '../kubedb/types.ts';
import { isClientCertificateOf } from './client-certs.ts';

export type Listed<T> =
  | { ok: true; items: T[] }
  | { ok: false; reason: 'forbidden' | 'not-served' | 'error'; message: string };

export interface CertificateRequest extends KubeObject {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export interface KubeEvent extends KubeObject {
  involvedObject: { kind?: string; name?: string; namespace?: string };
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
}

/** Every object of the selected databases, read; Secrets still hold their data (for facts and the probe). */
export interface Reads {
  certManagerServed: boolean;
  opsRequestsServed: boolean;
  singlestores: Listed<Singlestore>;
  certificates: Listed<Certificate>;
  certificateRequests: Listed<CertificateRequest>;
  certificateEvents: Listed<KubeEvent>;
  /** Only the Secrets a selected database refers to. */
  secrets: Listed<Secret>;
  petSets: Listed<PetSet>;
  pods: Listed<Pod>;
  issuers: Listed<Issuer>;
  clusterIssuers: Listed<Issuer>;
  opsRequests: Listed<OpsRequest>;
}

/** The labels KubeDB puts on a Singlestore's PetSets, pods and Certificates. */
export const kubedbSelector = 'app.kubernetes.io/name=singlestores.kubedb.com';
export const notServed = {
  ok: false,
  reason: 'not-served',
  message: 'not served by the API server',
} as const;

/** A read's answer, or why there is none: forbidden and unserved kinds are findings, not aborts. */
export async function listed<T>(read: () => Promise<T[]>): Promise<Listed<T>> {
  try {
    return { ok: true, items: await read() };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.isForbidden) return { ok: false, reason: 'forbidden', message: error.message };
    if (error.status === 404) return notServed;
    // Unreachable server, timeouts, authentication: nothing else would work either.
    if (error.status === 0 || error.status === 401) throw error;
    return { ok: false, reason: 'error', message: error.message };
  }
}

/** Several reads of one kind as one: all their items, or the first reason one of them failed. */
export function merged<T>(parts: Listed<T>[]): Listed<T> {
  const failed = parts.find((part) => !part.ok);
  if (failed) return failed;
  return { ok: true, items: parts.flatMap((part) => (part.ok ? part.items : [])) };
}

export function keyOf(object: { metadata: { namespace?: string; name: string } }): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/**
 * Drop what a report never shows and that weighs most on many objects: managedFields and kubectl's
 * last-applied copy of the whole object.
 */
export function slim<T extends KubeObject>(object: T): T {
  const { managedFields: _managed, ...metadata } = object.metadata as T['metadata'] & {
    managedFields?: unknown;
  };
  const annotations = metadata.annotations;
  if (annotations?.['kubectl.kubernetes.io/last-applied-configuration'] !== undefined) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _applied, ...rest } = annotations;
    metadata.annotations = rest;
  }
  return { ...object, metadata };
}

/** Whether the API server serves the kind a read was of (an unserved kind reads as 404). */
export function served(list: Listed<unknown>): boolean {
  return list.ok || list.reason !== 'not-served';
}

/** The names of the Certificates KubeDB makes for a TLS database (none without spec.tls.issuerRef). */
export function expectedCertificates(db: Singlestore): string[] {
  if (!db.spec?.tls?.issuerRef) return [];
  return tlsCertificates(db.metadata.name, db.spec.tls.certificates).map((entry) => entry.certificate);
}

/**
 * The names of the Secrets a TLS database expects, in its namespace: KubeDB's, and those of the
 * client certificates `tls client-cert` made for it (among `certificates`).
 */
export function expectedSecrets(db: Singlestore, certificates: Certificate[]): string[] {
  if (!db.spec?.tls?.issuerRef) return [];
  const database = { namespace: db.metadata.namespace ?? '', name: db.metadata.name };
  return [
    ...new Set([
      ...tlsCertificates(database.name, db.spec.tls.certificates).map((entry) => entry.secret),
      ...certificates
        .filter((certificate) => isClientCertificateOf(certificate, database))
        .map((certificate) => certificate.spec.secretName),
    ]),
  ];
}
