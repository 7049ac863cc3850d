/**
 * TEST-ONLY: the stand-in's "container runtime". Every pod the PetSet stand-in creates gets a REAL
 * MySQL-protocol server, Debian's MariaDB (`mariadbd`), on a loopback port, reached through
 * `kubectl port-forward` because kwok (the fake node's kubelet) forwards the pod's port 3306 there,
 * as a kwok `PortForward` object named after the pod says.
 *
 * Like the real database, the server reads its certificate files once, when the pod starts: they are
 * copied from the database's server-certificate Secret AS IT IS when the pod is created, and the
 * server keeps serving them until the pod is deleted. So a renewed Secret is not on the wire until
 * the pod restarts, which is what the plugin's probe must see. A database without spec.tls gets
 * servers without TLS.
 *
 * Per pod, under the runtime dir: `<namespace>/<pod>/` holds `sock` (root may log in there without a
 * password), the copied `ca.crt`, `tls.crt`, `tls.key`, the datadir `data/` (a copy of a template made
 * once with mariadb-install-db), `init.sql` and `mariadbd.log`. The loopback port is kept per pod
 * name, so a pod re-created under the same name is served on the same port.
 *
 * Test switches (annotations), see `switches` below and README.md "The test bed".
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { Resources, type ResourceType } from '../../src/kube/resources.ts';
import type { Pod, Secret, Singlestore } from '../../src/kubedb/types.ts';
import { badTls, blackhole } from './fake-wire.ts';
import { certificateSecretName } from './kubedb-names.ts';
import { podSocketPath } from './socket-path.ts';

export const switches = {
  /** On a Singlestore: JSON `[{"user":"app","require":"X509"},{"user":"bob","require":"SUBJECT","subject":"/CN=bob"}]`. */
  x509Users: 'standin.kubectl-singlestore.test/x509-users',
  /** On a pod: serve the files of this Secret as they are now instead of those copied at creation. */
  serveSecret: 'standin.kubectl-singlestore.test/serve-secret',
  /** On a pod: blackhole | refused | no-tls | bad-tls | legacy-tls. */
  wire: 'standin.kubectl-singlestore.test/wire',
} as const;

const wireModes = ['blackhole', 'refused', 'no-tls', 'bad-tls', 'legacy-tls'] as const;
type WireMode = (typeof wireModes)[number] | 'normal';

export const portForwardType: ResourceType = {
  group: 'kwok.x-k8s.io',
  version: 'v1alpha1',
  plural: 'portforwards',
  kind: 'PortForward',
  namespaced: true,
};

/** The pod port the database listens on (KubeDB's Singlestore port). */
const podPort = 3306;
const certificateFiles = ['ca.crt', 'tls.crt', 'tls.key'] as const;
const startTimeoutMs = 30_000;
/** Debian's mariadb-server puts the server in /usr/sbin, which a user's PATH may lack. */
const mariadbd = existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd';

/**
 * Flags for a small, fast server: no InnoDB (Aria tables only), no performance schema, small caches
 * (~40 MB RSS instead of ~70), and no name resolution. Probes hand-shake and hang up without logging
 * in: every one is an aborted connect, and MariaDB blocks a host after max_connect_errors of them, so
 * the limit is raised far beyond what a test suite makes.
 */
const serverFlags = [
  '--skip-log-bin',
  '--innodb=OFF',
  '--default-storage-engine=Aria',
  '--default-tmp-storage-engine=Aria',
  '--performance-schema=OFF',
  '--skip-name-resolve',
  '--max-connect-errors=1000000000',
  '--aria-pagecache-buffer-size=1M',
  '--key-buffer-size=64K',
  '--table-open-cache=64',
  '--table-definition-cache=400',
  '--max-connections=64',
  '--query-cache-size=0',
  '--thread-cache-size=0',
  '--open-files-limit=1024',
];

/** How a server is stopped: gracefully when it will be started again on the same datadir. */
type Stop = (signal?: 'SIGTERM' | 'SIGKILL') => Promise<void>;

interface Serving {
  /** What is served, to tell whether the switches changed. */
  key: string;
  stop: Stop;
}

interface PodState {
  uid: string;
  namespace: string;
  name: string;
  dir: string;
  port: number;
  /** The port the pod's PortForward points at. */
  forwarded?: number;
  database: string;
  /** The database's server-certificate Secret; none: the database has no TLS. */
  serverSecret?: string;
  serving?: Serving;
}

export interface X509User {
  user: string;
  require: 'X509' | 'SUBJECT';
  subject?: string;
}

const processes = new Set<ChildProcess>();
// Whatever happens to the stand-in, its servers go with it (test-cluster's `down` also kills the group).
process.on('exit', () => {
  for (const child of processes) child.kill('SIGKILL');
});

export class ContainerRuntime {
  private readonly pods = new Map<string, PodState>();
  private readonly ports = new Map<string, number>();
  private readonly template: string;

  constructor(
    private readonly client: KubeClient,
    private readonly root: string,
    private readonly log: (line: string) => void,
  ) {
    this.template = path.join(root, '.template');
  }

  /** Makes the template datadir (once; about a second). */
  async init(): Promise<void> {
    rmSync(this.template, { recursive: true, force: true });
    mkdirSync(this.root, { recursive: true });
    // A temporary directory of its own: in a /tmp shared with other test beds, bootstrap's temporary
    // tables were seen to clash ("Could not remove temporary table '/tmp/#sql-temptable-...'").
    const tmpdir = `${this.template}-tmp`;
    rmSync(tmpdir, { recursive: true, force: true });
    mkdirSync(tmpdir, { recursive: true });
    await promisify(execFile)('mariadb-install-db', [
      '--no-defaults',
      `--datadir=${this.template}`,
      `--tmpdir=${tmpdir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--user=root',
      '--innodb=OFF',
      '--default-storage-engine=Aria',
      '--skip-log-bin',
    ]);
  }

  /**
   * The pod was just created: copy the database's server certificate as it is now, start the pod's
   * server and point kwok's PortForward at it. Resolves once the server accepts connections.
   */
  async startPod(pod: Pod): Promise<void> {
    const started = performance.now();
    const { namespace = 'default', name, uid = '' } = pod.metadata;
    const key = `${namespace}/${name}`;
    const previous = this.pods.get(key);
    if (previous) await this.remove(previous);
    const database = pod.metadata.labels?.['app.kubernetes.io/instance'] ?? name;
    const db = await this.client.find<Singlestore>(Resources.singlestore, namespace, database);
    const tls = db?.spec?.tls;
    const dir = path.join(this.root, namespace, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    cpSync(this.template, path.join(dir, 'data'), { recursive: true });
    const state: PodState = {
      uid,
      namespace,
      name,
      dir,
      port: this.ports.get(key) ?? (await freePort()),
      database,
      ...(tls?.issuerRef
        ? { serverSecret: certificateSecretName(database, 'server', tls.certificates ?? []) }
        : {}),
    };
    if (state.serverSecret && !(await this.copySecret(namespace, state.serverSecret, dir))) {
      this.log(`pod ${key}: Secret ${state.serverSecret} not found: serving without TLS`);
      delete state.serverSecret;
    }
    this.ports.set(key, state.port);
    this.pods.set(key, state);
    await this.serve(state, pod.metadata.annotations ?? {});
    this.log(
      `pod ${key}: server accepts connections ${Math.round(performance.now() - started)} ms after creation`,
    );
  }

  /** A pod changed or went away: apply its switches, or stop its server. */
  async syncPod(namespace: string, name: string): Promise<void> {
    const state = this.pods.get(`${namespace}/${name}`);
    if (!state) return;
    const pod = await this.client.find<Pod>(Resources.pod, namespace, name);
    if (!pod || pod.metadata.uid !== state.uid || pod.metadata.deletionTimestamp) {
      await this.remove(state);
      return;
    }
    await this.serve(state, pod.metadata.annotations ?? {});
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.pods.values()].map((state) => state.serving?.stop('SIGKILL')));
    for (const state of this.pods.values()) rmSync(podSocketPath(state.dir), { force: true });
  }

  private async remove(state: PodState): Promise<void> {
    // The pod is gone and its datadir with it: no need for a clean shutdown.
    await state.serving?.stop('SIGKILL');
    state.serving = undefined;
    this.pods.delete(`${state.namespace}/${state.name}`);
    rmSync(state.dir, { recursive: true, force: true });
    rmSync(podSocketPath(state.dir), { force: true });
  }

  /** Writes the TLS files of a Secret into dir; false when the Secret does not exist. */
  private async copySecret(namespace: string, secretName: string, dir: string): Promise<boolean> {
    const secret = await this.client.find<Secret>(Resources.secret, namespace, secretName);
    if (!secret) return false;
    mkdirSync(dir, { recursive: true });
    for (const file of certificateFiles) {
      const data = secret.data?.[file];
      rmSync(path.join(dir, file), { force: true });
      if (data) writeFileSync(path.join(dir, file), Buffer.from(data, 'base64'), { mode: 0o600 });
    }
    return true;
  }

  /** Starts what the pod's switches ask for, unless it is already what is served. */
  private async serve(state: PodState, annotations: Record<string, string>): Promise<void> {
    const requested = annotations[switches.wire];
    const wire: WireMode = wireModes.find((mode) => mode === requested) ?? 'normal';
    if (requested && wire === 'normal')
      this.log(`pod ${state.name}: unknown ${switches.wire} "${requested}"`);
    const pinned = annotations[switches.serveSecret];
    const key = JSON.stringify({ wire, pinned });
    if (state.serving?.key === key) return;
    await state.serving?.stop();
    state.serving = undefined;

    let certificates = state.serverSecret ? state.dir : undefined;
    if (pinned) {
      const pinnedDir = path.join(state.dir, 'serve-secret');
      rmSync(pinnedDir, { recursive: true, force: true });
      if (await this.copySecret(state.namespace, pinned, pinnedDir)) certificates = pinnedDir;
      else this.log(`pod ${state.name}: ${switches.serveSecret} Secret "${pinned}" not found`);
    }
    let stop: Stop;
    try {
      stop = await this.startWire(state, wire, certificates);
    } catch (error) {
      // Like a container that keeps crashing: not tried again until the pod's switches change.
      state.serving = { key, stop: async () => {} };
      throw error;
    }
    state.serving = { key, stop };
    this.log(`pod ${state.namespace}/${state.name}: serving ${key} on 127.0.0.1:${state.port}`);
    if (state.forwarded !== state.port) {
      await this.forwardPort(state);
      state.forwarded = state.port;
    }
  }

  private async startWire(state: PodState, wire: WireMode, certificates: string | undefined): Promise<Stop> {
    switch (wire) {
      case 'refused':
        return async () => {};
      case 'blackhole':
        return (await blackhole(state.port)).close;
      case 'bad-tls':
        return (await badTls(state.port)).close;
      case 'no-tls':
        return this.startServer(state, undefined, false);
      case 'legacy-tls':
        return this.startServer(state, certificates, true);
      case 'normal':
        return this.startServer(state, certificates, false);
    }
  }

  /** mariadbd for the pod; resolves with its stop function once it accepts connections. */
  private async startServer(
    state: PodState,
    certificates: string | undefined,
    legacy: boolean,
  ): Promise<Stop> {
    const users = await this.x509Users(state);
    const initFile = path.join(state.dir, 'init.sql');
    writeFileSync(initFile, users.map(createUserSql).join('\n'));
    for (let attempt = 1; ; attempt++) {
      const args = [
        '--no-defaults',
        '--user=root',
        `--datadir=${path.join(state.dir, 'data')}`,
        `--socket=${podSocketPath(state.dir)}`,
        `--pid-file=${path.join(state.dir, 'mariadbd.pid')}`,
        `--tmpdir=${state.dir}`,
        '--bind-address=127.0.0.1',
        `--port=${state.port}`,
        `--init-file=${initFile}`,
        ...serverFlags,
        ...(certificates ? tlsFlags(certificates) : []),
        // TLS 1.0 and 1.1 need the old protocol versions and OpenSSL's security level 0 (SHA-1).
        ...(certificates && legacy
          ? ['--tls-version=TLSv1.0,TLSv1.1,TLSv1.2,TLSv1.3', '--ssl-cipher=DEFAULT@SECLEVEL=0']
          : []),
      ];
      const logFile = path.join(state.dir, 'mariadbd.log');
      const log = openSync(logFile, 'a');
      const child = spawn(mariadbd, args, { stdio: ['ignore', log, log] });
      closeSync(log);
      processes.add(child);
      const exited = new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.once('error', () => resolve());
      });
      void exited.then(() => processes.delete(child));
      try {
        await ready(podSocketPath(state.dir), exited);
        return (signal = 'SIGTERM') => stopProcess(child, exited, signal);
      } catch (error) {
        await stopProcess(child, exited, 'SIGKILL');
        const text = readFileSync(logFile, 'utf8');
        // The port kept for the pod was taken meanwhile: take another and move the PortForward.
        if (attempt < 3 && text.includes('Bind on TCP/IP port')) {
          state.port = await freePort();
          this.ports.set(`${state.namespace}/${state.name}`, state.port);
          continue;
        }
        const reason = text
          .split('\n')
          .filter((line) => line.includes('[ERROR]'))
          .slice(-2)
          .join('; ');
        throw new Error(`mariadbd ${(error as Error).message}${reason ? `: ${reason}` : ''}`);
      }
    }
  }

  private async x509Users(state: PodState): Promise<X509User[]> {
    const db = await this.client.find<Singlestore>(Resources.singlestore, state.namespace, state.database);
    const text = db?.metadata.annotations?.[switches.x509Users];
    if (!text) return [];
    try {
      return parseX509Users(text);
    } catch (error) {
      this.log(`${state.database}: ${switches.x509Users}: ${(error as Error).message}`);
      return [];
    }
  }

  private async forwardPort(state: PodState): Promise<void> {
    const spec = { forwards: [{ ports: [podPort], target: { address: '127.0.0.1', port: state.port } }] };
    const existing = await this.client.find(portForwardType, state.namespace, state.name);
    if (existing) {
      await this.client.patch(portForwardType, { namespace: state.namespace, name: state.name }, { spec });
      return;
    }
    await this.client.create(portForwardType, state.namespace, {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'PortForward',
      metadata: { name: state.name, namespace: state.namespace },
      spec,
    } as KubeObject);
  }
}

function tlsFlags(dir: string): string[] {
  return [
    `--ssl-cert=${path.join(dir, 'tls.crt')}`,
    `--ssl-key=${path.join(dir, 'tls.key')}`,
    `--ssl-ca=${path.join(dir, 'ca.crt')}`,
  ];
}

export function parseX509Users(text: string): X509User[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('not a JSON array');
  return parsed.map((entry: Partial<X509User>) => {
    if (typeof entry?.user !== 'string' || !['X509', 'SUBJECT'].includes(entry.require ?? ''))
      throw new Error(`each entry needs "user" and "require": "X509" or "SUBJECT": ${JSON.stringify(entry)}`);
    if (entry.require === 'SUBJECT' && typeof entry.subject !== 'string')
      throw new Error(`"require": "SUBJECT" needs "subject": ${JSON.stringify(entry)}`);
    return entry as X509User;
  });
}

function sqlString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** One statement per line: the server reads its --init-file line by line. */
function createUserSql(user: X509User): string {
  const require = user.require === 'X509' ? 'X509' : `SUBJECT ${sqlString(user.subject ?? '')}`;
  return `CREATE OR REPLACE USER ${sqlString(user.user)}@'%' REQUIRE ${require};`;
}

/** Ready when a client on the Unix socket gets the greeting (the server then accepts connections). */
async function ready(socketPath: string, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (gone) throw new Error('exited while starting');
    if (await greets(socketPath)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`not ready after ${startTimeoutMs / 1000}s`);
}

function greets(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('data', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

async function stopProcess(
  child: ChildProcess,
  exited: Promise<void>,
  signal: 'SIGTERM' | 'SIGKILL',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

/**
 * Pods' ports come from below Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
 * default), where neither the source port of an outgoing connection nor another `listen(0)` can take
 * the port a restarting pod keeps; a pod that still finds its port taken moves, and its PortForward
 * with it (kwok follows the change only after a moment, meanwhile forwarding to whatever holds the
 * old port). Each stand-in starts at its own offset, so test clusters side by side rarely meet.
 */
const podPorts = { first: 20_000, count: 12_000 };
let nextPodPort = podPorts.first + ((process.pid * 7919) % podPorts.count);
const handedOut = new Set<number>();

async function freePort(): Promise<number> {
  for (let tries = 0; tries < podPorts.count; tries++) {
    const port = nextPodPort;
    nextPodPort = podPorts.first + ((nextPodPort - podPorts.first + 1) % podPorts.count);
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free port for a pod');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
