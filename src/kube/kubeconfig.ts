/**
 * Kubeconfig loading with kubectl's rules (client-go's ClientConfigLoadingRules), kept free of the
 * Kubernetes client so completion can read contexts without loading it.
 *
 * - `--kubeconfig FILE` alone, else every file in KUBECONFIG (missing ones skipped), else ~/.kube/config,
 *   else the in-cluster service account.
 * - Merging: the first file to define a cluster, user or context name wins; later duplicates are skipped.
 *   The first non-empty current-context wins.
 * - Relative file paths inside a file resolve against that file's folder.
 * - Flags override the selected context: --context, --cluster, --user, --server, --token, ...
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { UsageError } from '../errors.ts';

export interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

export interface RawUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  exec?: Record<string, unknown>;
  'auth-provider'?: Record<string, unknown>;
  as?: string;
  'as-groups'?: string[];
  'as-uid'?: string;
  username?: string;
  password?: string;
}

export interface RawContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** kubectl's connection flags (genericclioptions.ConfigFlags). */
export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  server?: string;
  token?: string;
  as?: string;
  asGroup?: string[];
  asUid?: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  requestTimeout?: string;
}

export interface LoadEnvironment {
  env: Record<string, string | undefined>;
  homeDir?: string;
  /** Where a pod finds its service account (overridable for tests). */
  serviceAccountDir?: string;
}

/** All contexts, clusters and users after merging, before any flag picks one. */
export interface MergedKubeconfig {
  files: string[];
  currentContext: string;
  contexts: Map<string, RawContext>;
  clusters: Map<string, RawCluster>;
  users: Map<string, RawUser>;
}

/** What one invocation connects with: a single cluster, user and namespace. */
export interface ResolvedConnection {
  /** Empty for in-cluster configuration. */
  contextName: string;
  clusterName: string;
  userName: string;
  cluster: RawCluster & { server: string };
  user: RawUser;
  namespace: string;
  /** True when the namespace came from -n, so commands can tell "default" apart from "asked for". */
  namespaceFromFlag: boolean;
  inCluster: boolean;
}

const inClusterDir = '/var/run/secrets/kubernetes.io/serviceaccount';

export function kubeconfigFiles(flags: ConnectionFlags, environment: LoadEnvironment): string[] {
  if (flags.kubeconfig) {
    if (!existsSync(flags.kubeconfig)) {
      throw new UsageError(`--kubeconfig ${flags.kubeconfig}: no such file`);
    }
    return [flags.kubeconfig];
  }
  const fromEnv = environment.env.KUBECONFIG;
  if (fromEnv) {
    const separator = process.platform === 'win32' ? ';' : ':';
    const unique = [...new Set(fromEnv.split(separator).filter((file) => file !== ''))];
    return unique.filter((file) => existsSync(file));
  }
  const home = environment.homeDir ?? homedir();
  const defaultFile = path.join(home, '.kube', 'config');
  return existsSync(defaultFile) ? [defaultFile] : [];
}

export function loadMergedKubeconfig(files: string[]): MergedKubeconfig {
  const merged: MergedKubeconfig = {
    files,
    currentContext: '',
    contexts: new Map(),
    clusters: new Map(),
    users: new Map(),
  };
  for (const file of files) {
    const doc = parseKubeconfigFile(file);
    const dir = path.dirname(path.resolve(file));
    if (!merged.currentContext && typeof doc['current-context'] === 'string') {
      merged.currentContext = doc['current-context'];
    }
    for (const entry of namedEntries(doc.clusters, 'cluster', file)) {
      if (merged.clusters.has(entry.name)) continue;
      const cluster = { ...(entry.value as RawCluster) };
      resolvePath(cluster, 'certificate-authority', dir);
      merged.clusters.set(entry.name, cluster);
    }
    for (const entry of namedEntries(doc.users, 'user', file)) {
      if (merged.users.has(entry.name)) continue;
      const user = { ...(entry.value as RawUser) };
      resolvePath(user, 'client-certificate', dir);
      resolvePath(user, 'client-key', dir);
      resolvePath(user, 'tokenFile', dir);
      merged.users.set(entry.name, user);
    }
    for (const entry of namedEntries(doc.contexts, 'context', file)) {
      if (!merged.contexts.has(entry.name)) merged.contexts.set(entry.name, entry.value as RawContext);
    }
  }
  return merged;
}

function parseKubeconfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read kubeconfig ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (error) {
    const reason = error instanceof yaml.YAMLException ? error.reason : String(error);
    const line = error instanceof yaml.YAMLException ? ` (line ${error.mark.line + 1})` : '';
    throw new UsageError(`kubeconfig ${file} is not valid YAML${line}: ${reason}`);
  }
  if (doc === undefined || doc === null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UsageError(`kubeconfig ${file} is not a kubeconfig: expected a mapping at the top level`);
  }
  return doc as Record<string, unknown>;
}

function namedEntries(list: unknown, field: string, file: string): { name: string; value: object }[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new UsageError(`kubeconfig ${file}: "${field}s" must be a list`);
  return list.map((item, index) => {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') {
      throw new UsageError(`kubeconfig ${file}: ${field}s[${index}] has no name`);
    }
    const value = (item as Record<string, unknown>)[field] ?? {};
    if (typeof value !== 'object')
      throw new UsageError(`kubeconfig ${file}: ${field} "${name}" is not a mapping`);
    return { name, value: value as object };
  });
}

function resolvePath<T extends object>(entry: T, key: keyof T, dir: string): void {
  const value = entry[key];
  if (typeof value === 'string' && value !== '' && !path.isAbsolute(value)) {
    (entry as Record<keyof T, unknown>)[key] = path.join(dir, value);
  }
}

/** Pick the context and apply the flags, as kubectl does. */
export function resolveConnection(flags: ConnectionFlags, environment: LoadEnvironment): ResolvedConnection {
  const files = kubeconfigFiles(flags, environment);
  if (files.length === 0) {
    const inCluster = inClusterConnection(flags, environment);
    if (inCluster) return inCluster;
    throw new UsageError(
      'no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config (or pass --server)',
    );
  }
  const merged = loadMergedKubeconfig(files);
  const contextName = flags.context || merged.currentContext;
  let context: RawContext = {};
  if (contextName) {
    const found = merged.contexts.get(contextName);
    if (!found) {
      const known = [...merged.contexts.keys()];
      throw new UsageError(
        `context "${contextName}" does not exist in ${files.join(', ')}; ` +
          (known.length ? `contexts: ${known.join(', ')}` : 'the kubeconfig defines no contexts'),
      );
    }
    context = found;
  } else if (!flags.server) {
    throw new UsageError(`no current context is set in ${files.join(', ')}: pass --context`);
  }
  const clusterName = flags.cluster || context.cluster || '';
  const userName = flags.user || context.user || '';
  const cluster = { ...(clusterName ? lookup(merged.clusters, clusterName, 'cluster', files) : {}) };
  const user = { ...(userName ? lookup(merged.users, userName, 'user', files) : {}) };
  applyFlagOverrides(cluster, user, flags);
  if (!cluster.server) {
    throw new UsageError(
      `cluster "${clusterName}" has no server address; pass --server or fix the kubeconfig`,
    );
  }
  return {
    contextName,
    clusterName,
    userName,
    cluster: cluster as RawCluster & { server: string },
    user,
    namespace: flags.namespace || context.namespace || 'default',
    namespaceFromFlag: Boolean(flags.namespace),
    inCluster: false,
  };
}

function lookup<T>(map: Map<string, T>, name: string, what: string, files: string[]): T {
  const found = map.get(name);
  if (!found) throw new UsageError(`${what} "${name}" does not exist in ${files.join(', ')}`);
  return found;
}

function applyFlagOverrides(cluster: RawCluster, user: RawUser, flags: ConnectionFlags): void {
  if (flags.server) cluster.server = flags.server;
  if (flags.certificateAuthority) {
    cluster['certificate-authority'] = path.resolve(flags.certificateAuthority);
    delete cluster['certificate-authority-data'];
  }
  if (flags.insecureSkipTlsVerify) {
    cluster['insecure-skip-tls-verify'] = true;
    delete cluster['certificate-authority'];
    delete cluster['certificate-authority-data'];
  }
  if (flags.tlsServerName) cluster['tls-server-name'] = flags.tlsServerName;
  if (flags.clientCertificate) {
    user['client-certificate'] = path.resolve(flags.clientCertificate);
    delete user['client-certificate-data'];
  }
  if (flags.clientKey) {
    user['client-key'] = path.resolve(flags.clientKey);
    delete user['client-key-data'];
  }
  if (flags.token) {
    user.token = flags.token;
    delete user.tokenFile;
    delete user.exec;
    delete user['auth-provider'];
  }
  if (flags.as) user.as = flags.as;
  if (flags.asGroup?.length) user['as-groups'] = flags.asGroup;
  if (flags.asUid) user['as-uid'] = flags.asUid;
}

function inClusterConnection(
  flags: ConnectionFlags,
  environment: LoadEnvironment,
): ResolvedConnection | null {
  const host = environment.env.KUBERNETES_SERVICE_HOST;
  const port = environment.env.KUBERNETES_SERVICE_PORT;
  const dir = environment.serviceAccountDir ?? inClusterDir;
  if (!host || !port || !existsSync(path.join(dir, 'token'))) return null;
  const server = flags.server || `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const cluster: RawCluster = { server, 'certificate-authority': path.join(dir, 'ca.crt') };
  const user: RawUser = { tokenFile: path.join(dir, 'token') };
  applyFlagOverrides(cluster, user, flags);
  const namespaceFile = path.join(dir, 'namespace');
  const podNamespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : '';
  return {
    contextName: '',
    clusterName: 'in-cluster',
    userName: 'service-account',
    cluster: cluster as RawCluster & { server: string },
    user,
    namespace: flags.namespace || podNamespace || 'default',
    namespaceFromFlag: Boolean(flags.namespace),
    inCluster: true,
  };
}
