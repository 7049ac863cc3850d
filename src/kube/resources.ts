/** The API types the plugin reads and writes, with the paths and names kubectl would use for them. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const Resources = {
  namespace: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  service: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  pod: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  event: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  /** Written by the commands that change a database (their audit trail); read as core v1 events. */
  auditEvent: { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  crd: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
  },
  singlestore: {
    group: 'kubedb.com',
    version: 'v1alpha2',
    plural: 'singlestores',
    kind: 'Singlestore',
    namespaced: true,
  },
  opsRequest: {
    group: 'ops.kubedb.com',
    version: 'v1alpha1',
    plural: 'singlestoreopsrequests',
    kind: 'SinglestoreOpsRequest',
    namespaced: true,
  },
  petset: {
    group: 'apps.k8s.appscode.com',
    version: 'v1',
    plural: 'petsets',
    kind: 'PetSet',
    namespaced: true,
  },
  certificate: {
    group: 'cert-manager.io',
    version: 'v1',
    plural: 'certificates',
    kind: 'Certificate',
    namespaced: true,
  },
  certificateRequest: {
    group: 'cert-manager.io',
    version: 'v1',
    plural: 'certificaterequests',
    kind: 'CertificateRequest',
    namespaced: true,
  },
  issuer: { group: 'cert-manager.io', version: 'v1', plural: 'issuers', kind: 'Issuer', namespaced: true },
  clusterIssuer: {
    group: 'cert-manager.io',
    version: 'v1',
    plural: 'clusterissuers',
    kind: 'ClusterIssuer',
    namespaced: false,
  },
} as const satisfies Record<string, ResourceType>;

/** `singlestores.kubedb.com`, or `secrets` for the core group: the name kubectl and RBAC use. */
export function qualifiedName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

export interface ObjectPath {
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

export function resourcePath(type: ResourceType, where: ObjectPath = {}): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const ns = type.namespaced && where.namespace ? `/namespaces/${encodeURIComponent(where.namespace)}` : '';
  const name = where.name ? `/${encodeURIComponent(where.name)}` : '';
  const sub = where.name && where.subresource ? `/${where.subresource}` : '';
  return `${base}${ns}/${type.plural}${name}${sub}`;
}
