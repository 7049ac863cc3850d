/**
 * KubeDB's naming rules for a Singlestore's TLS objects (kubedb.dev/apimachinery v0.66.0, see
 * DOMAIN.md): what the operator creates, so the plugin knows what to look for.
 */
export const maxNameLength = 63;

/** kmodules meta_util.NameWithSuffix: `<name>-<suffix>`, the name shortened so the result fits 63 chars. */
export function nameWithSuffix(name: string, suffix: string): string {
  if (suffix.length >= maxNameLength) return trimDashes(suffix.slice(suffix.length - maxNameLength));
  const room = maxNameLength - suffix.length - 1;
  return trimDashes(`${name.slice(0, room)}-${suffix}`);
}

function trimDashes(text: string): string {
  return text.replace(/^-+|-+$/g, '');
}

export const defaultAliases = ['server', 'client'] as const;

/** The Certificates KubeDB makes for a spec.tls: server and client, plus any other alias given, with their Secrets. */
export function tlsCertificates(
  database: string,
  certificates: { alias: string; secretName?: string }[] = [],
): { alias: string; certificate: string; secret: string }[] {
  const aliases = [...new Set([...defaultAliases, ...certificates.map((spec) => spec.alias)])];
  return aliases.map((alias) => {
    const certificate = certificateName(database, alias);
    const secret = certificates.find((spec) => spec.alias === alias)?.secretName ?? certificate;
    return { alias, certificate, secret };
  });
}

/** The Certificate (and its Secret) KubeDB creates for a certificate alias. */
export function certificateName(database: string, alias: string): string {
  return nameWithSuffix(database, `${alias}-cert`);
}

export function governingServiceName(database: string): string {
  return nameWithSuffix(database, 'pods');
}

/** The labels KubeDB puts on everything it creates for a Singlestore. */
export function databaseLabels(database: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'singlestores.kubedb.com',
    'app.kubernetes.io/instance': database,
    'app.kubernetes.io/managed-by': 'kubedb.com',
    'app.kubernetes.io/component': 'database',
  };
}

/** DNS names KubeDB puts in the server certificate, before any the user adds. */
export function serverDnsNames(database: string, namespace: string): string[] {
  const pods = governingServiceName(database);
  return [
    `*.${pods}.${namespace}.svc`,
    `*.${pods}.${namespace}.svc.cluster.local`,
    `*.${database}.${namespace}.svc`,
    'localhost',
    database,
    `${database}.${namespace}.svc`,
  ];
}

/** PetSets of a Singlestore: aggregator and leaf for a cluster topology, one named after it standalone. */
export function petSetNames(database: string, clustered: boolean): string[] {
  return clustered ? [nameWithSuffix(database, 'aggregator'), nameWithSuffix(database, 'leaf')] : [database];
}

export const tlsVolumeName = 'tls-volume';
export const tlsMountPath = '/etc/memsql/certs';
