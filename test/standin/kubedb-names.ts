/**
 * TEST-ONLY. The names KubeDB gives a Singlestore's objects, spelled out here from KubeDB's own sources
 * and NOT imported from the plugin (src/kubedb/naming.ts): a wrong rule shared by the plugin and the
 * stand-in would pass every test.
 *   kmodules.xyz/client-go v0.34.3 meta/lib.go             NameWithSuffix
 *   kubedb.dev/apimachinery v0.66.0
 *     apis/kubedb/v1alpha2/singlestore_helpers.go         CertificateName, GetCertSecretName,
 *                                                         GoverningServiceName, AggregatorPetSet,
 *                                                         LeafPetSet, PetSetName, OffshootSelectors
 *     apis/kubedb/constants.go                            PetSetTypeAggregator, PetSetTypeLeaf
 * The server certificate's names, the TLS volume and its mount path are those KubeDB's Singlestore
 * operator puts in place (its certificate and PetSet builders).
 */

/** validation.DNS1123LabelMaxLength, NameWithSuffix's default limit. */
const labelMaxLength = 63;

/**
 * meta_util.NameWithSuffix: `<name>-<suffix>` with name cut so the whole fits 63 characters, dashes
 * trimmed from both ends; a suffix of 63 or more characters keeps only its last 63.
 */
export function nameWithSuffix(name: string, suffix: string): string {
  if (suffix.length >= labelMaxLength)
    return trimDash(suffix.slice(Math.max(0, suffix.length - labelMaxLength)));
  return trimDash(`${name.slice(0, Math.min(name.length, labelMaxLength - suffix.length - 1))}-${suffix}`);
}

function trimDash(text: string): string {
  return text.replace(/^-+/, '').replace(/-+$/, '');
}

/** Singlestore.CertificateName: the Certificate of an alias, and its Secret unless spec.tls names one. */
export function certificateName(db: string, alias: string): string {
  return nameWithSuffix(db, `${alias}-cert`);
}

/** Singlestore.GetCertSecretName: spec.tls.certificates[alias].secretName, else CertificateName. */
export function certificateSecretName(
  db: string,
  alias: string,
  certificates: { alias: string; secretName?: string }[] = [],
): string {
  return certificates.find((spec) => spec.alias === alias)?.secretName || certificateName(db, alias);
}

/** SetTLSDefaults fills server and client; any other alias listed in spec.tls.certificates stays. */
export function certificateAliases(certificates: { alias: string }[] = []): string[] {
  return [...new Set(['server', 'client', ...certificates.map((spec) => spec.alias)])];
}

/** Singlestore.GoverningServiceName: NameWithSuffix(ServiceName() = the database's name, "pods"). */
export function governingServiceName(db: string): string {
  return nameWithSuffix(db, 'pods');
}

/** Singlestore.OffshootSelectors plus the component label KubeDB adds (OffshootLabels). */
export function offshootLabels(db: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'singlestores.kubedb.com',
    'app.kubernetes.io/instance': db,
    'app.kubernetes.io/managed-by': 'kubedb.com',
    'app.kubernetes.io/component': 'database',
  };
}

/** The DNS names of KubeDB's Singlestore server certificate (no IP address unless the user adds one). */
export function serverCertificateDnsNames(db: string, namespace: string): string[] {
  const pods = governingServiceName(db);
  return [
    `*.${pods}.${namespace}.svc`,
    `*.${pods}.${namespace}.svc.cluster.local`,
    `*.${db}.${namespace}.svc`,
    'localhost',
    db,
    `${db}.${namespace}.svc`,
  ];
}

export interface TopologyNames {
  aggregator?: { suffix?: string };
  leaf?: { suffix?: string };
}

/**
 * The PetSets: AggregatorPetSet and LeafPetSet for a cluster topology (with `suffix` set:
 * NameWithSuffix(NameWithSuffix(db, suffix), "aggregator")), PetSetName = the database's name standalone.
 */
export function petSets(db: string, topology?: TopologyNames): { name: string; role: string }[] {
  if (!topology) return [{ name: db, role: 'standalone' }];
  const named = (role: 'aggregator' | 'leaf') => {
    const suffix = topology[role]?.suffix;
    return nameWithSuffix(suffix ? nameWithSuffix(db, suffix) : db, role);
  };
  return [
    { name: named('aggregator'), role: 'aggregator' },
    { name: named('leaf'), role: 'leaf' },
  ];
}

export const tlsVolume = 'tls-volume';
export const tlsMountDir = '/etc/memsql/certs';
