/**
 * Flags are declared once, as data: the parser (parse.ts), help and shell completion all read these
 * specs, so they can never disagree.
 */
import type { ConnectionFlags } from '../kube/kubeconfig.ts';

/** Where completion finds candidate values for a flag or positional argument. */
export type CompletionSource =
  | { kind: 'static'; values: readonly string[] }
  | { kind: 'files' }
  | { kind: 'contexts' | 'clusters' | 'users' | 'namespaces' | 'singlestores' | 'issuers' };

export interface FlagSpec {
  name: string;
  alias?: string;
  type: 'string' | 'boolean' | 'number' | 'array';
  describe: string;
  default?: unknown;
  choices?: readonly string[];
  complete?: CompletionSource;
}

const files: CompletionSource = { kind: 'files' };

/** kubectl's genericclioptions.ConfigFlags, plus -v. */
export const connectionFlags: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', describe: 'Path to the kubeconfig file', complete: files },
  {
    name: 'context',
    type: 'string',
    describe: 'The kubeconfig context to use',
    complete: { kind: 'contexts' },
  },
  {
    name: 'cluster',
    type: 'string',
    describe: 'The kubeconfig cluster to use',
    complete: { kind: 'clusters' },
  },
  { name: 'user', type: 'string', describe: 'The kubeconfig user to use', complete: { kind: 'users' } },
  {
    name: 'namespace',
    alias: 'n',
    type: 'string',
    describe: 'The namespace (default: the context namespace, else "default")',
    complete: { kind: 'namespaces' },
  },
  {
    name: 'server',
    alias: 's',
    type: 'string',
    describe: 'The address and port of the Kubernetes API server',
  },
  { name: 'token', type: 'string', describe: 'Bearer token for authentication to the API server' },
  { name: 'as', type: 'string', describe: 'Username to impersonate for the operation' },
  { name: 'as-group', type: 'array', describe: 'Group to impersonate (repeatable)' },
  { name: 'as-uid', type: 'string', describe: 'UID to impersonate for the operation' },
  {
    name: 'certificate-authority',
    type: 'string',
    describe: 'Path to a cert file for the CA',
    complete: files,
  },
  {
    name: 'client-certificate',
    type: 'string',
    describe: 'Path to a client certificate file for TLS',
    complete: files,
  },
  { name: 'client-key', type: 'string', describe: 'Path to a client key file for TLS', complete: files },
  {
    name: 'insecure-skip-tls-verify',
    type: 'boolean',
    describe: "Don't verify the server's certificate (insecure)",
  },
  { name: 'tls-server-name', type: 'string', describe: 'Server name for certificate validation' },
  {
    name: 'request-timeout',
    type: 'string',
    describe: 'How long to wait for one API request (e.g. 1s, 2m; 0: no limit)',
    default: '0',
  },
  {
    name: 'v',
    type: 'number',
    describe: 'Log level: 6 requests, 7 headers, 8 bodies (secrets redacted)',
    default: 0,
  },
];

export function outputFlag(formats: readonly string[], describe = 'Output format'): FlagSpec {
  return {
    name: 'output',
    alias: 'o',
    type: 'string',
    describe: `${describe}: ${formats.join('|')}`,
    choices: formats,
    complete: { kind: 'static', values: formats },
  };
}

/** The parsed command line (parse.ts): one key per flag name and per positional argument. */
export type ParsedArgs = Record<string, unknown>;

export function connectionFlagsFrom(argv: ParsedArgs): ConnectionFlags {
  const text = (key: string): string | undefined => {
    const value = argv[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const groups = argv['as-group'];
  return {
    kubeconfig: text('kubeconfig'),
    context: text('context'),
    cluster: text('cluster'),
    user: text('user'),
    namespace: text('namespace'),
    server: text('server'),
    token: text('token'),
    as: text('as'),
    asGroup: Array.isArray(groups) ? groups.map(String) : undefined,
    asUid: text('as-uid'),
    certificateAuthority: text('certificate-authority'),
    clientCertificate: text('client-certificate'),
    clientKey: text('client-key'),
    insecureSkipTlsVerify: argv['insecure-skip-tls-verify'] === true,
    tlsServerName: text('tls-server-name'),
    requestTimeout: text('request-timeout'),
  };
}

const dryRunStrategies = ['none', 'client', 'server'] as const;
const progressModes = ['auto', 'live', 'plain'] as const;

/** kubectl's --dry-run=none|client|server, for the commands that write. */
export function dryRunFlag(describe: string): FlagSpec {
  return {
    name: 'dry-run',
    type: 'string',
    describe,
    default: 'none',
    choices: dryRunStrategies,
    complete: { kind: 'static', values: dryRunStrategies },
  };
}

/** --progress for the commands that wait. */
export const progressFlag: FlagSpec = {
  name: 'progress',
  type: 'string',
  describe: 'auto (live on a terminal), live or plain',
  default: 'auto',
  choices: progressModes,
  complete: { kind: 'static', values: progressModes },
};

/** --progress=auto means live lines on a terminal and plain lines anywhere else. */
export function progressMode(argv: ParsedArgs, isTTY: boolean): 'live' | 'plain' {
  const progress = String(argv.progress ?? 'auto');
  if (progress === 'auto') return isTTY ? 'live' : 'plain';
  return progress as 'live' | 'plain';
}

/**
 * The wire probe: `--probe` and `--probe-timeout`, the time limit for everything done for one pod.
 * `onByDefault` is the default where it is fixed; status leaves it unset (on for one database only).
 */
export function probeFlags(onByDefault?: boolean): FlagSpec[] {
  return [
    {
      name: 'probe',
      type: 'boolean',
      describe:
        onByDefault === undefined
          ? 'Check what every database pod serves, through a port-forward (default: on for one database, off for many)'
          : 'End by checking what every database pod serves, through a port-forward (--probe=false to skip)',
      ...(onByDefault === undefined ? {} : { default: onByDefault }),
    },
    {
      name: 'probe-timeout',
      type: 'string',
      describe: 'Time limit for probing one pod (Go duration)',
      default: '5s',
    },
  ];
}

/** Where a CA ClusterIssuer's Secret lives: cert-manager's own --cluster-resource-namespace. */
export const clusterResourceNamespaceFlag: FlagSpec = {
  name: 'cluster-resource-namespace',
  type: 'string',
  describe: "cert-manager's --cluster-resource-namespace, where a CA ClusterIssuer's Secret lives",
  default: 'cert-manager',
  complete: { kind: 'namespaces' },
};

/** The CA checks of tls status: the issuer's CA Secret (by permission), or a CA the user supplies. */
export const caFlags: FlagSpec[] = [
  {
    name: 'ca-file',
    type: 'string',
    describe:
      "A PEM file with the CA the certificates must come from (signer first, root last), instead of reading the issuer's CA Secret",
    complete: { kind: 'files' },
  },
  clusterResourceNamespaceFlag,
];
