/**
 * Redaction by allowlist, for objects that leave the cluster in a support bundle. What is kept is
 * named here; everything else is dropped and counted, so the index can say what was removed:
 * - annotations: only keys known to hold no data (cert-manager's and KubeDB's own bookkeeping);
 *   `kubectl.kubernetes.io/last-applied-configuration` can carry a whole Secret and is always dropped;
 * - metadata.managedFields: dropped (it repeats field values, and is noise);
 * - env variables: names and their references (valueFrom) kept, literal values dropped everywhere;
 * - with names redacted, the fields that hold names in encoded form (CSRs and issued certificates
 *   of CertificateRequests) are dropped too: their parsed facts are in the status report.
 */
import type { KubeObject } from '../../kube/objects.ts';

const safeAnnotationPrefixes = [
  'cert-manager.io/',
  'kubedb.com/',
  'ops.kubedb.com/',
  'apps.k8s.appscode.com/',
];
const safeAnnotationKeys = new Set(['deployment.kubernetes.io/revision']);
const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';

export interface RedactionCounts {
  annotations: number;
  envValues: number;
  managedFields: number;
  encodedFields: number;
}

export function emptyCounts(): RedactionCounts {
  return { annotations: 0, envValues: 0, managedFields: 0, encodedFields: 0 };
}

export function isSafeAnnotation(key: string): boolean {
  if (key === lastApplied) return false;
  return safeAnnotationKeys.has(key) || safeAnnotationPrefixes.some((prefix) => key.startsWith(prefix));
}

/** A deep copy of the object with the redactions above applied; `counts` is incremented. */
export function redactObject(
  object: KubeObject,
  options: { dropEncodedNames: boolean; counts: RedactionCounts },
): Record<string, unknown> {
  const copy = structuredClone(object) as unknown as Record<string, unknown>;
  const metadata = copy.metadata as Record<string, unknown>;
  if (metadata.managedFields) {
    delete metadata.managedFields;
    options.counts.managedFields++;
  }
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations) {
    for (const key of Object.keys(annotations)) {
      if (!isSafeAnnotation(key)) {
        delete annotations[key];
        options.counts.annotations++;
      }
    }
  }
  stripEnvValues(copy, options.counts);
  if (options.dropEncodedNames && copy.kind === 'CertificateRequest') {
    const spec = copy.spec as Record<string, unknown> | undefined;
    const status = copy.status as Record<string, unknown> | undefined;
    for (const [holder, key] of [
      [spec, 'request'],
      [status, 'certificate'],
      [status, 'ca'],
    ] as const) {
      if (holder && key in holder) {
        holder[key] = '(dropped: holds names)';
        options.counts.encodedFields++;
      }
    }
  }
  return copy;
}

/** Every `env` list of container-shaped objects, at any depth (pods, PetSet and Singlestore templates). */
function stripEnvValues(node: unknown, counts: RedactionCounts): void {
  if (Array.isArray(node)) {
    for (const item of node) stripEnvValues(item, counts);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'env' && Array.isArray(value)) {
      for (const variable of value) {
        if (variable && typeof variable === 'object' && 'value' in variable) {
          delete (variable as Record<string, unknown>).value;
          counts.envValues++;
        }
      }
    }
    stripEnvValues(value, counts);
  }
}

const referenceHolders = new Set([
  'secretKeyRef',
  'configMapKeyRef',
  'secretRef',
  'configMapRef',
  'secret',
  'configMap',
]);

/** Names of Secrets and ConfigMaps an object refers to (env, volumes): they are names to redact too. */
export function referencedNames(node: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) referencedNames(item, found);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'secretName' && typeof value === 'string') found.add(value);
      const name = (value as { name?: unknown } | null)?.name;
      if (referenceHolders.has(key) && typeof name === 'string') found.add(name);
      referencedNames(value, found);
    }
  }
  return found;
}

/**
 * Stable pseudonyms for namespaces and object names: the same name gets the same pseudonym in every
 * file and file name of one archive. Names are replaced as whole DNS labels or label runs (bounded by
 * anything but a letter or digit), longest first, so `db` inside `db-server-cert.demo.svc` is found and
 * `db` inside `kubedb` is not.
 */
export class Pseudonyms {
  private readonly names = new Map<string, string>();
  private counters = { namespace: 0, name: 0 };
  private pattern: RegExp | undefined;

  addNamespace(namespace: string | undefined): void {
    this.add(namespace, 'namespace');
  }

  addName(name: string | undefined): void {
    this.add(name, 'name');
  }

  private add(value: string | undefined, kind: 'namespace' | 'name'): void {
    if (!value || this.names.has(value)) return;
    this.counters[kind]++;
    this.names.set(value, `${kind}-${String(this.counters[kind]).padStart(3, '0')}`);
    this.pattern = undefined;
  }

  apply(text: string): string {
    if (this.names.size === 0) return text;
    if (!this.pattern) {
      const alternatives = [...this.names.keys()]
        .sort((a, b) => b.length - a.length)
        .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.pattern = new RegExp(`(?<![A-Za-z0-9])(${alternatives.join('|')})(?![A-Za-z0-9])`, 'g');
    }
    return text.replace(this.pattern, (name) => this.names.get(name) ?? name);
  }
}
