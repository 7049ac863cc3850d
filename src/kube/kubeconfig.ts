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
  /** The file each user came from (a refreshed OIDC token is written back there). */
  userFiles: Map<string, string>;
}

/** What one invocation connects with: a single cluster, user and namespace. */
export interface ResolvedConnection {
  /** Empty for in-cluster configuration. */
  contextName: string;
  clusterName: string;
  userName: string;
  cluster: RawCluster & { server: string };
  user: RawUser;
  /** The kubeconfig file that defines the user, if any. */
  userFile?: string | undefined;
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
    userFiles: new Map(),
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
      // clientcmd's GetAuthInfoFileReferences: an exec command with a path separator is a file path,
      // relative to the kubeconfig's folder; a bare name is looked up on PATH.
      const exec = user.exec;
      if (exec && typeof exec.command === 'string' && exec.command.includes('/')) {
        user.exec = { ...exec };
        resolvePath(user.exec, 'command', dir);
      }
      merged.users.set(entry.name, user);
      merged.userFiles.set(entry.name, file);
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
    // With no kubeconfig at all, --server makes the flags alone the configuration (clientcmd's
    // DeferredLoadingClientConfig uses in-cluster only for a default config), e.g. --server URL --token T.
    if (flags.server) return finish(fromFlagsOnly(flags));
    const inCluster = inClusterConnection(flags, environment);
    if (inCluster) return finish(inCluster);
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
  return finish({
    contextName,
    clusterName,
    userName,
    cluster: cluster as RawCluster & { server: string },
    user,
    userFile: userName ? merged.userFiles.get(userName) : undefined,
    namespace: flags.namespace || context.namespace || 'default',
    namespaceFromFlag: Boolean(flags.namespace),
    inCluster: false,
  });
}

function fromFlagsOnly(flags: ConnectionFlags): ResolvedConnection {
  return withoutKubeconfig(flags, { cluster: {}, user: {}, inCluster: false });
}

/** A connection with no kubeconfig context: the flags applied over `base`. */
function withoutKubeconfig(
  flags: ConnectionFlags,
  base: { cluster: RawCluster; user: RawUser; inCluster: boolean; namespace?: string },
): ResolvedConnection {
  const { cluster, user, inCluster } = base;
  applyFlagOverrides(cluster, user, flags);
  return {
    contextName: '',
    clusterName: inCluster ? 'in-cluster' : '',
    userName: inCluster ? 'service-account' : '',
    cluster: cluster as RawCluster & { server: string },
    user,
    namespace: flags.namespace || base.namespace || 'default',
    namespaceFromFlag: Boolean(flags.namespace),
    inCluster,
  };
}

/** The checks client-go makes on the merged configuration before it connects. */
function finish(connection: ResolvedConnection): ResolvedConnection {
  const { cluster, user } = connection;
  cluster.server = checkServerUrl(cluster.server ?? '');
  // k8s.io/client-go/transport/transport.go TLSConfigFor
  if (
    cluster['insecure-skip-tls-verify'] &&
    (cluster['certificate-authority'] || cluster['certificate-authority-data'])
  ) {
    throw new UsageError(
      `cluster "${connection.clusterName}" sets both insecure-skip-tls-verify and a certificate-authority: ` +
        'specifying a root certificates file with the insecure flag is not allowed (drop one of them)',
    );
  }
  // k8s.io/client-go/tools/clientcmd/validation.go validateAuthInfo: "requesting uid, groups or
  // user-extra for ... without impersonating a user".
  if (!user.as && (user['as-groups']?.length || user['as-uid'])) {
    const what = user['as-uid'] ? '--as-uid' : '--as-group';
    throw new UsageError(`${what} needs --as: groups and a UID can only be impersonated with a user name`);
  }
  return connection;
}

/**
 * The server address must be an http(s) URL. kubectl takes one without a scheme as plain http
 * (clientcmd decides on TLS from the bare address before the CA is merged, k8s.io/client-go/tools/
 * clientcmd/client_config.go IsConfigTransportTLS) and then sends no credentials: against an HTTPS
 * API server that only yields "the server rejected our request for an unknown reason". Saying what
 * is missing is clearer.
 */
function checkServerUrl(server: string): string {
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {}
  if (url && /^https?:$/.test(url.protocol) && url.host) return server;
  if (url && /^[a-z][a-z0-9+.-]*:\/\//i.test(server)) {
    throw new UsageError(
      `the server address "${server}" has the scheme "${url.protocol.slice(0, -1)}": use https:// (or http://)`,
    );
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(server) && URL.canParse(`https://${server}`)) {
    throw new UsageError(
      `the server address "${server}" has no scheme: write https://${server} (kubectl would use plain http without credentials)`,
    );
  }
  throw new UsageError(`the server address "${server}" is not a URL (expected https://HOST:PORT)`);
}

function lookup<T>(map: Map<string, T>, name: string, what: string, files: string[]): T {
  const found = map.get(name);
  if (!found) throw new UsageError(`${what} "${name}" does not exist in ${files.join(', ')}`);
  return found;
}

/** clientcmd's DirectClientConfig overrides (k8s.io/client-go/tools/clientcmd/client_config.go getCluster). */
function applyFlagOverrides(cluster: RawCluster, user: RawUser, flags: ConnectionFlags): void {
  if (flags.server) cluster.server = flags.server;
  // --insecure-skip-tls-verify or --certificate-authority replace all three of the kubeconfig's
  // settings: a CA given on the command line switches verification back on.
  if (flags.insecureSkipTlsVerify || flags.certificateAuthority) {
    cluster['insecure-skip-tls-verify'] = Boolean(flags.insecureSkipTlsVerify);
    delete cluster['certificate-authority-data'];
    delete cluster['certificate-authority'];
    if (flags.certificateAuthority)
      cluster['certificate-authority'] = path.resolve(flags.certificateAuthority);
  }
  // "setting a --server will effectively clear the KUBECONFIG value of tls-server-name"
  if (flags.tlsServerName || flags.server) {
    if (flags.tlsServerName) cluster['tls-server-name'] = flags.tlsServerName;
    else delete cluster['tls-server-name'];
  }
  if (flags.clientCertificate) {
    user['client-certificate'] = path.resolve(flags.clientCertificate);
    delete user['client-certificate-data'];
  }
  if (flags.clientKey) {
    user['client-key'] = path.resolve(flags.clientKey);
    delete user['client-key-data'];
  }
  // Only the token is replaced: clientcmd merges the flag into the user entry, so a tokenFile there
  // still wins over it (k8s.io/client-go/transport/round_trippers.go NewBearerAuthWithRefreshRoundTripper).
  if (flags.token) user.token = flags.token;
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
  const namespaceFile = path.join(dir, 'namespace');
  const podNamespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : '';
  return withoutKubeconfig(flags, { cluster, user, inCluster: true, namespace: podNamespace });
}
