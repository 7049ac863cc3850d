/**
 * Decide and render for `tls report`: from what was collected and the status report, the files of
 * the archive. Pure: the clock, the context name and the plugin version come in as options.
 *
 * Only objects on the TLS path of the selected databases are written: the Singlestores, their
 * Certificates, CertificateRequests and Issuers, their ops requests, PetSets, pods and Services, and
 * the Events about any of these. Secrets are never written: only their name, type, key names and the
 * parsed facts of their certificates.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../kube/objects.ts';
import { Resources, type ResourceType } from '../../kube/resources.ts';
import { tlsCertificates } from '../../kubedb/naming.ts';
import type { Certificate, Issuer, OpsRequest, Singlestore } from '../../kubedb/types.ts';
import { renderData } from '../../output/formats.ts';
import type { Listed } from '../gather.ts';
import { renderers } from '../render.ts';
import type { StatusReport } from '../report.ts';
import type { Collected } from './collect.ts';
import { emptyCounts, Pseudonyms, type RedactionCounts, redactObject, referencedNames } from './redact.ts';
import type { ArchiveFile } from './tar.ts';

export const bundleApiVersion = 'singlestore.tls.kubedb.com/v1';

export interface BundleOptions {
  pluginVersion: string;
  redactNames: boolean;
}

/** The outcome of a context that could not be collected (unreachable, refused, no such database). */
export const failedOutcome = 'failed';
/** The outcome of a context whose Singlestores could not be listed (forbidden, CRD not installed). */
export const unreadableOutcome = 'not readable';

/** A file of one context's part of the archive, its path relative to the context's folder. */
export interface DescribedFile extends ArchiveFile {
  description: string;
}

/**
 * One context's part of the archive: its files, or the error that kept it out. `outcome` is the
 * status's health, `unreadableOutcome` or `failedOutcome`.
 */
export interface ContextSection {
  /** The kubeconfig context ("" in-cluster). */
  context: string;
  outcome: string;
  exitCode: number;
  error?: string;
  files: DescribedFile[];
  dropped: RedactionCounts;
  unavailable: Unavailable[];
}

export interface Unavailable {
  what: string;
  reason: string;
  message: string;
}

export interface BundleIndex {
  apiVersion: typeof bundleApiVersion;
  kind: 'TLSSupportBundle';
  generatedAt: string;
  /** Every context of the command; `folder` is "" when the archive covers one context. */
  contexts: {
    context: string;
    folder: string;
    outcome: string;
    exitCode: number;
    error?: string;
    dropped: RedactionCounts;
    unavailable: Unavailable[];
  }[];
  redaction: { names: boolean; rules: string[] };
  files: { path: string; description: string; bytes: number }[];
}

export const redactionRules = [
  'Secrets: name, type, key names and parsed certificate facts only; no value of any key',
  'annotations: only cert-manager.io/, kubedb.com/, ops.kubedb.com/, apps.k8s.appscode.com/ keys and deployment.kubernetes.io/revision; kubectl.kubernetes.io/last-applied-configuration always dropped',
  'metadata.managedFields dropped',
  'env variables: names and valueFrom references only, literal values dropped',
  'nothing from the kubeconfig (no server credentials, tokens or certificates)',
];

/**
 * `singlestore-tls-report-<context>-20260102T030405Z.tar.gz`, the context made safe for any file
 * system; with many contexts, `singlestore-tls-report-contexts-<time>.tar.gz`.
 */
export function defaultFileName(contextNames: string[], now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  const label = contextNames.length === 1 ? safeName(contextNames[0] ?? '') : 'contexts';
  return `singlestore-tls-report-${label}-${stamp}.tar.gz`;
}

/** A context name as a file or folder name: EKS's `arn:aws:eks:...:cluster/x` holds `:` and `/`. */
function safeName(contextName: string): string {
  const safe = contextName.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'in-cluster';
  return safe.slice(0, 80);
}

interface Entry {
  path: string;
  description: string;
  text: string;
}

/**
 * One context's files. `report` is the status, or the reason it could not be made (the Singlestores
 * could not be listed): then the files hold whatever else was readable, and status.txt says why.
 */
export function buildBundle(
  collected: Collected,
  report: StatusReport | { unreadable: string },
  options: BundleOptions,
): Pick<ContextSection, 'files' | 'dropped' | 'unavailable'> & { pseudonymize: (text: string) => string } {
  const { snapshot } = collected;
  const counts = emptyCounts();
  const unavailable: Unavailable[] = [];
  const items = <T>(what: string, list: Listed<T>): T[] => {
    if (list.ok) return list.items;
    unavailable.push({ what, reason: list.reason, message: list.message });
    return [];
  };

  const databases = items<Singlestore>('singlestores.kubedb.com', snapshot.singlestores);
  const expected = databases.map((db) => ({
    namespace: db.metadata.namespace ?? '',
    name: db.metadata.name,
    entries: tlsCertificates(db.metadata.name, db.spec?.tls?.certificates),
    issuer: db.spec?.tls?.issuerRef,
  }));
  const inDatabase = (object: KubeObject, match: (db: (typeof expected)[number]) => boolean) =>
    expected.some((db) => db.namespace === (object.metadata.namespace ?? '') && match(db));
  const ofInstance = (object: KubeObject) =>
    inDatabase(object, (db) => object.metadata.labels?.['app.kubernetes.io/instance'] === db.name);

  const certificates = items<Certificate>('certificates.cert-manager.io', snapshot.certificates).filter(
    (certificate) =>
      inDatabase(certificate, (db) =>
        db.entries.some((entry) => entry.certificate === certificate.metadata.name),
      ),
  );
  const certificateKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
  const certificateNames = new Set(
    certificates.map((c) => certificateKey(c.metadata.namespace, c.metadata.name)),
  );
  const requests = items('certificaterequests.cert-manager.io', snapshot.certificateRequests).filter(
    (request) =>
      certificateNames.has(
        certificateKey(
          request.metadata.namespace,
          request.metadata.annotations?.['cert-manager.io/certificate-name'] ?? '',
        ),
      ),
  );
  const issuerRefs = [
    ...expected.flatMap((db) => (db.issuer ? [{ ...db.issuer, namespace: db.namespace }] : [])),
    ...certificates.map((c) => ({
      ...(c.spec?.issuerRef ?? { name: '' }),
      namespace: c.metadata.namespace ?? '',
    })),
  ];
  const issuers = items<Issuer>('issuers.cert-manager.io', snapshot.issuers).filter((issuer) =>
    issuerRefs.some(
      (ref) =>
        (ref.kind ?? 'Issuer') === 'Issuer' &&
        ref.name === issuer.metadata.name &&
        ref.namespace === issuer.metadata.namespace,
    ),
  );
  const clusterIssuers = items<Issuer>('clusterissuers.cert-manager.io', snapshot.clusterIssuers).filter(
    (issuer) => issuerRefs.some((ref) => ref.kind === 'ClusterIssuer' && ref.name === issuer.metadata.name),
  );
  const opsRequests = items<OpsRequest>('singlestoreopsrequests.ops.kubedb.com', snapshot.opsRequests).filter(
    (ops) => inDatabase(ops, (db) => ops.spec?.databaseRef?.name === db.name),
  );
  const petSets = items('petsets.apps.k8s.appscode.com', snapshot.petSets).filter(ofInstance);
  const pods = items('pods', snapshot.pods).filter(ofInstance);
  const services = items('services', collected.services).filter(ofInstance);
  const secrets = items('secrets', snapshot.secrets).filter((secret) =>
    expected.some(
      (db) => db.namespace === secret.namespace && db.entries.some((entry) => entry.secret === secret.name),
    ),
  );

  const written: [ResourceType, KubeObject[]][] = [
    [Resources.singlestore, databases],
    [Resources.certificate, certificates],
    [Resources.certificateRequest, requests],
    [Resources.issuer, issuers],
    [Resources.clusterIssuer, clusterIssuers],
    [Resources.opsRequest, opsRequests],
    [Resources.petset, petSets],
    [Resources.pod, pods],
    [Resources.service, services],
  ];
  const involved = new Set(
    written.flatMap(([type, objects]) =>
      objects.map((o) => `${type.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`),
    ),
  );
  const events = items('events', collected.events).filter((event) =>
    involved.has(
      `${event.involvedObject.kind}/${event.involvedObject.namespace ?? ''}/${event.involvedObject.name ?? ''}`,
    ),
  );
  written.push([Resources.event, events]);

  const pseudonyms = new Pseudonyms();
  if (options.redactNames) {
    const all = written.flatMap(([, objects]) => objects);
    const { scope } = snapshot;
    const namespaces = [
      ...all.map((o) => o.metadata.namespace),
      ...secrets.map((s) => s.namespace),
      scope.namespace,
    ];
    for (const namespace of [...new Set(namespaces)].sort()) pseudonyms.addNamespace(namespace);
    const names = [
      ...all.map((o) => o.metadata.name),
      ...secrets.map((s) => s.name),
      ...expected.flatMap((db) => [
        ...db.entries.flatMap((e) => [e.certificate, e.secret]),
        db.issuer?.name ?? '',
      ]),
      ...issuerRefs.map((ref) => ref.name),
      ...referencedNames(all),
      scope.name ?? '',
    ];
    for (const name of [...new Set(names)].filter(Boolean).sort()) pseudonyms.addName(name);
  }

  const status: Entry[] =
    'unreadable' in report
      ? [
          {
            path: 'status.txt',
            description: 'why tls status could not run',
            text: `tls status could not run: ${report.unreadable}\n`,
          },
        ]
      : [
          {
            path: 'status.txt',
            description: 'tls status: the table (wide) and every database in detail',
            text: `${renderers.wide(report)}\n${renderers.detail(report)}`,
          },
          {
            path: 'status.json',
            description: `tls status -o json (${report.apiVersion}, README "tls status JSON")`,
            text: renderers.json(report),
          },
        ];
  const entries: Entry[] = [
    ...status,
    {
      path: 'versions.json',
      description: 'plugin, API server, cert-manager and KubeDB versions (where discoverable)',
      text: renderData(versions(collected, options.pluginVersion, unavailable), 'json'),
    },
  ];
  for (const [type, objects] of written) {
    for (const object of objects) {
      const redacted = redactObject(
        {
          apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
          kind: type.kind,
          ...object,
        },
        { dropEncodedNames: options.redactNames, counts },
      );
      const where = type.namespaced ? (object.metadata.namespace ?? '') : '_cluster';
      entries.push({
        path: `objects/${where}/${type.plural}/${object.metadata.name}.yaml`,
        description: `${type.kind}, redacted`,
        text: renderData(redacted, 'yaml'),
      });
    }
  }
  for (const secret of secrets) {
    entries.push({
      path: `objects/${secret.namespace}/secrets/${secret.name}.yaml`,
      description: 'Secret: key names and certificate facts, no values',
      text: renderData(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: secret.name, namespace: secret.namespace },
          type: secret.type,
          keys: secret.keys,
          certificateFacts: secret.facts,
        },
        'yaml',
      ),
    });
  }

  return {
    files: entries.map((entry) => ({
      path: pseudonyms.apply(entry.path),
      description: entry.description,
      content: Buffer.from(pseudonyms.apply(entry.text)),
    })),
    dropped: counts,
    unavailable: unavailable.map((entry) => ({ ...entry, message: pseudonyms.apply(entry.message) })),
    pseudonymize: (text) => pseudonyms.apply(text),
  };
}

/**
 * The archive: one context's files at its root, or each context's under `contexts/<context>/`; one
 * index (index.json, index.txt) and one sha256 manifest (SHA256SUMS) for the whole.
 */
export function archiveFiles(
  sections: ContextSection[],
  options: { now: Date; redactNames: boolean },
): ArchiveFile[] {
  const folders = new Set<string>();
  const folderOf = (section: ContextSection) => {
    if (sections.length === 1) return '';
    let folder = `contexts/${safeName(section.context)}`;
    for (let n = 2; folders.has(folder); n++) folder = `contexts/${safeName(section.context)}-${n}`;
    folders.add(folder);
    return `${folder}/`;
  };
  const placed = sections.map((section) => {
    const folder = section.files.length ? folderOf(section) : '';
    return {
      section,
      folder,
      files: section.files.map((file) => ({ ...file, path: `${folder}${file.path}` })),
    };
  });
  const files = placed.flatMap((entry) => entry.files);
  const index: BundleIndex = {
    apiVersion: bundleApiVersion,
    kind: 'TLSSupportBundle',
    generatedAt: options.now.toISOString(),
    contexts: placed.map(({ section, folder }) => ({
      context: section.context,
      folder,
      outcome: section.outcome,
      exitCode: section.exitCode,
      ...(section.error !== undefined ? { error: section.error } : {}),
      dropped: section.dropped,
      unavailable: section.unavailable,
    })),
    redaction: { names: options.redactNames, rules: redactionRules },
    files: files.map((file) => ({
      path: file.path,
      description: file.description,
      bytes: file.content.length,
    })),
  };
  const archived = [
    { path: 'index.json', content: Buffer.from(renderData(index, 'json')) },
    { path: 'index.txt', content: Buffer.from(indexText(index)) },
    ...files.map(({ path, content }) => ({ path, content })),
  ];
  const sums = archived.map(
    (file) => `${createHash('sha256').update(file.content).digest('hex')}  ${file.path}\n`,
  );
  return [...archived, { path: 'SHA256SUMS', content: Buffer.from(sums.join('')) }];
}

function versions(collected: Collected, pluginVersion: string, unavailable: Unavailable[]) {
  const server = collected.serverVersion;
  if (!server.ok) unavailable.push({ what: 'API server /version', reason: 'error', message: server.message });
  const imagesOf = (names: string[]) => {
    const found = (collected.deployments.ok ? collected.deployments.items : [])
      .filter((d) => names.includes(d.metadata.labels?.['app.kubernetes.io/name'] ?? ''))
      .flatMap((d) => (d.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''));
    return found.length
      ? [...new Set(found)].sort()
      : 'not found (no Deployment labelled with its name, or not readable)';
  };
  if (!collected.deployments.ok) {
    unavailable.push({
      what: 'deployments.apps (controller versions)',
      reason: collected.deployments.reason,
      message: collected.deployments.message,
    });
  }
  return {
    plugin: pluginVersion,
    apiServer: server.ok
      ? { gitVersion: server.value.gitVersion, platform: server.value.platform }
      : 'unavailable',
    certManager: imagesOf(['cert-manager']),
    kubedb: imagesOf(['kubedb-provisioner', 'kubedb-ops-manager', 'kubedb']),
  };
}

function indexText(index: BundleIndex): string {
  const many = index.contexts.length > 1;
  const outcome = (entry: BundleIndex['contexts'][number]) =>
    `${entry.outcome}${entry.error ? `: ${entry.error}` : ''} (exit ${entry.exitCode})`;
  const name = (context: string) => context || '(in-cluster)';
  const lines = [
    `TLS support bundle (kubectl-singlestore), ${index.generatedAt}`,
    ...(many
      ? [
          'Contexts:',
          ...index.contexts.map(
            (entry) =>
              `  ${name(entry.context)}${entry.folder ? ` (${entry.folder})` : ''}: ${outcome(entry)}`,
          ),
        ]
      : index.contexts.map((entry) => `Context: ${name(entry.context)}: ${outcome(entry)}`)),
    `Names redacted: ${index.redaction.names ? 'yes (stable pseudonyms, per context)' : 'no'}`,
    '',
    'Files:',
    ...index.files.map((file) => `  ${file.path}  ${file.description}`),
    '  index.json  this index, as JSON',
    '  SHA256SUMS  sha256 of every file (sha256sum -c SHA256SUMS)',
    '',
    'Not readable or not present:',
  ];
  const unavailable = index.contexts.flatMap((entry) =>
    entry.unavailable.map(
      (item) => `  ${many ? `${name(entry.context)}: ` : ''}${item.what}: ${item.reason} (${item.message})`,
    ),
  );
  lines.push(...(unavailable.length ? unavailable : ['  (nothing)']), '', 'Redaction:');
  lines.push(...index.redaction.rules.map((rule) => `  - ${rule}`));
  for (const entry of index.contexts.filter((e) => e.outcome !== failedOutcome)) {
    const dropped = Object.entries(entry.dropped)
      .map(([what, count]) => `${count} ${what}`)
      .join(', ');
    lines.push(`  dropped${many ? ` in ${name(entry.context)}` : ''}: ${dropped}`);
  }
  return `${lines.join('\n')}\n`;
}
