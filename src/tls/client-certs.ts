/**
 * Client certificates for database users: the rules for a user name, the Kubernetes names derived
 * from it, the cert-manager Certificate that asks for one, and the subject string the server compares.
 * Pure: no API calls here.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.ts';
import { nameWithSuffix } from '../kubedb/naming.ts';
import type { Certificate, Singlestore } from '../kubedb/types.ts';
import { managedBy } from './converge/markers.ts';

export const userAnnotation = 'kubectl-singlestore.kubedb.com/db-user';
export const clientCertificateComponent = 'client-certificate';

/** The labels on a client certificate and its Secret: ours, for this database. */
export function clientCertificateLabels(database: string): Record<string, string> {
  return {
    ...managedBy,
    'app.kubernetes.io/instance': database,
    'app.kubernetes.io/component': clientCertificateComponent,
  };
}

/** Whether a Certificate is a client certificate this tool made for the database `namespace/name`. */
export function isClientCertificateOf(
  certificate: { metadata: { namespace?: string; labels?: Record<string, string> } },
  database: { namespace: string; name: string },
): boolean {
  const labels = certificate.metadata.labels ?? {};
  return (
    certificate.metadata.namespace === database.namespace &&
    Object.entries(clientCertificateLabels(database.name)).every(([key, value]) => labels[key] === value)
  );
}

/** Selects every client certificate this tool made for a database, or (without one) in the namespace. */
export function clientCertificateSelector(database?: string): string {
  return Object.entries(
    database
      ? clientCertificateLabels(database)
      : { ...managedBy, 'app.kubernetes.io/component': clientCertificateComponent },
  )
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/**
 * `<db>-user-<slug>-<hash>`: a readable slug of the user (lowercased, other characters as "-", at most
 * 20) and 8 hex digits of SHA-256 over database and exact user, so `a_b`, `a-b` and `A-b` get different
 * Certificates. Shortened like KubeDB's own names (the database part first) to fit 63 characters.
 */
export function clientCertificateName(database: string, user: string): string {
  const slug = user
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 20)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(`${database}\n${user}`).digest('hex').slice(0, 8);
  return nameWithSuffix(database, slug ? `user-${slug}-${hash}` : `user-${hash}`);
}

export interface ClientCertificateRequest {
  database: Singlestore;
  user: string;
  organizations: string[];
  duration?: string;
}

/** The Certificate for a user: CN=USER, client auth, the database's own issuer, owned by the database. */
export function clientCertificate(request: ClientCertificateRequest): Certificate {
  const { database, user, organizations, duration } = request;
  const issuerRef = database.spec?.tls?.issuerRef;
  if (!issuerRef) throw new UsageError('the database has no spec.tls.issuerRef');
  const name = clientCertificateName(database.metadata.name, user);
  const labels = clientCertificateLabels(database.metadata.name);
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: {
      name,
      namespace: database.metadata.namespace ?? '',
      labels,
      annotations: { [userAnnotation]: user },
      ownerReferences: [
        {
          apiVersion: 'kubedb.com/v1alpha2',
          kind: 'Singlestore',
          name: database.metadata.name,
          uid: database.metadata.uid ?? '',
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      secretName: name,
      secretTemplate: { labels, annotations: { [userAnnotation]: user } },
      commonName: user,
      ...(organizations.length ? { subject: { organizations } } : {}),
      ...(duration ? { duration } : {}),
      usages: ['client auth', 'digital signature', 'key encipherment'],
      // PKCS#8: read by the mariadb and mysql clients, Go, Python and Java alike.
      privateKey: { algorithm: 'RSA', size: 2048, encoding: 'PKCS8', rotationPolicy: 'Always' },
      issuerRef: {
        name: issuerRef.name,
        kind: issuerRef.kind ?? 'Issuer',
        group: issuerRef.apiGroup ?? 'cert-manager.io',
      },
    },
  };
}

/**
 * The subject as the server compares it for REQUIRE SUBJECT: OpenSSL's one-line form, "/" before every
 * field, in the certificate's order. From a real certificate when there is one (Node prints its subject
 * one field a line, in order); otherwise what cert-manager will request: Go's pkix.Name order puts O
 * before CN (crypto/x509/pkix Name.ToRDNSequence).
 */
export function subjectOneLine(
  source: { x509Subject: string } | { user: string; organizations: string[] },
): string {
  if ('x509Subject' in source) {
    return source.x509Subject
      .split('\n')
      .filter(Boolean)
      .map((field) => `/${field}`)
      .join('');
  }
  return [...source.organizations.map((org) => `/O=${org}`), `/CN=${source.user}`].join('');
}

/** The user a client Certificate (or its Secret) was made for. */
export function userOf(object: { metadata: { annotations?: Record<string, string> } }): string | undefined {
  return object.metadata.annotations?.[userAnnotation];
}
