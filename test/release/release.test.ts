/**
 * The release, end to end: `npm run release` builds every platform; the real Krew (built from its Go
 * module by scripts/test-cluster build) validates the manifest, installing each platform's archive
 * from a local HTTP server, and installs the linux/amd64 archive offline, after which kubectl finds
 * the plugin through its plugin discovery and runs it against the test cluster, and kubectl's plugin
 * completion calls the helper. linux/arm64 runs under qemu-user and windows/amd64 under wine; the
 * darwin binaries are checked structurally (SEA segment, ad-hoc signature verified independently).
 * Runs after the other suites (scripts/test): the build keeps both cores busy for a minute.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import yaml from 'js-yaml';
import { archiveName, type Platform } from '../../scripts/release/platforms.ts';
import type { StatusReport } from '../../src/tls/report.ts';
import {
  certificatesReady,
  kubeconfig,
  kubectlApply,
  namespaceWithIssuer,
  repoRoot,
  singlestoreYaml,
  skipReason,
} from '../e2e/harness.ts';

const ns = 'release-e2e';
const database = 'shipped';
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const tag = `v${pkg.version}`;
const releaseDir = path.join(repoRoot, 'dist', 'release');
const manifestPath = path.join(repoRoot, 'plugin-manifest', 'singlestore.yaml');
const toolsCache = path.join(
  process.env.KUBECTL_SINGLESTORE_CACHE ?? path.join(homedir(), '.cache', 'kubectl-singlestore'),
  'bin',
);
const work = mkdtempSync(path.join(tmpdir(), 'release-test-'));
/** A folder with `kubectl-krew` in it, for kubectl's plugin discovery. */
const toolsDir = path.join(work, 'tools');

interface Manifest {
  metadata: { name: string };
  spec: {
    version: string;
    platforms: {
      selector: { matchLabels: { os: string; arch: string } };
      uri: string;
      sha256: string;
      bin: string;
      files: { from: string; to: string }[];
    }[];
  };
}

function archive(os: string, arch: string): string {
  return path.join(releaseDir, archiveName({ os, arch } as Pick<Platform, 'os' | 'arch'>, tag));
}

function sh(command: string, args: string[], env: Record<string, string | undefined> = {}): string {
  const result = spawnSync(command, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.status, 0, `${command} ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** `tls status` of the test database as JSON, reduced to what every platform must agree on. */
function verdict(stdout: string) {
  const report = JSON.parse(stdout) as StatusReport;
  return {
    health: report.summary.health,
    databases: report.databases.map((entry) => ({
      name: entry.name,
      namespace: entry.namespace,
      health: entry.health,
    })),
  };
}

/** Installs the archive of one platform into a fresh KREW_ROOT, as Krew on that platform would. */
function krewInstall(os: string, arch: string): string {
  const root = path.join(work, `krew-${os}-${arch}`);
  sh('kubectl', ['krew', 'install', `--manifest=${manifestPath}`, `--archive=${archive(os, arch)}`], {
    KREW_ROOT: root,
    KREW_OS: os,
    KREW_ARCH: arch,
    PATH: `${toolsDir}:${process.env.PATH}`,
  });
  return path.join(root, 'store', 'singlestore', tag);
}

describe('release: every platform, Krew, plugin discovery', { skip: skipReason, timeout: 900_000 }, () => {
  let manifest: Manifest;
  let expected: ReturnType<typeof verdict>;

  before(async () => {
    const missing = ['qemu-aarch64', 'wine', 'osslsigncode', 'zip', 'aarch64-linux-gnu-strip'].filter(
      (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
    );
    assert.deepEqual(missing, [], 'scripts/debian-packages installs what the release test needs');
    mkdirSync(toolsDir, { recursive: true });
    copyFileSync(path.join(toolsCache, 'kubectl-krew-v0.4.3'), path.join(toolsDir, 'kubectl-krew'));

    await namespaceWithIssuer(ns);
    kubectlApply(singlestoreYaml(database, ns, { issuer: 'sdb-issuer' }));

    const build = spawnSync('npm', ['run', 'release'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    });
    assert.equal(build.status, 0, `npm run release:\n${build.stdout}\n${build.stderr}`);
    manifest = yaml.load(readFileSync(manifestPath, 'utf8')) as Manifest;

    await certificatesReady(ns, database);
    const host = spawnSync(
      path.join(repoRoot, 'dist', 'kubectl-singlestore'),
      ['tls', 'status', '-n', ns, database, '-o', 'json', '--kubeconfig', kubeconfig],
      { encoding: 'utf8' },
    );
    assert.equal(host.status, 0, host.stderr);
    expected = verdict(host.stdout);
    assert.equal(expected.health, 'OK');
  });

  after(() => {
    execFileSync('rm', ['-rf', work]);
  });

  test('the manifest names every archive with its real sha256 and the version of package.json', () => {
    assert.equal(manifest.metadata.name, 'singlestore');
    assert.equal(manifest.spec.version, tag);
    const selectors = manifest.spec.platforms.map(
      (p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`,
    );
    assert.deepEqual(selectors, [
      'linux/amd64',
      'linux/arm64',
      'darwin/amd64',
      'darwin/arm64',
      'windows/amd64',
    ]);
    for (const platform of manifest.spec.platforms) {
      const { os, arch } = platform.selector.matchLabels;
      const file = archive(os, arch);
      assert.match(platform.sha256, /^[0-9a-f]{64}$/);
      assert.equal(platform.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'), file);
      assert.equal(path.basename(platform.uri), path.basename(file));
      assert.match(
        platform.uri,
        new RegExp(`^https://github\\.com/[\\w.-]+/[\\w.-]+/releases/download/${tag}/`),
      );
      assert.equal(platform.bin, os === 'windows' ? 'kubectl-singlestore.exe' : 'kubectl-singlestore');
    }
    const sums = readFileSync(path.join(releaseDir, 'SHA256SUMS'), 'utf8');
    for (const platform of manifest.spec.platforms) assert.ok(sums.includes(platform.sha256));
  });

  test('validate-krew-manifest accepts it, installing every platform from a download server', async () => {
    // The manifest as published, but pointing at a local server: the validator installs each
    // platform with `kubectl krew install` (KREW_OS/KREW_ARCH set), checking digests and licences.
    const server: Server = createServer((request, response) => {
      const file = path.join(releaseDir, path.basename(request.url ?? ''));
      if (!existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-length': statSync(file).size });
      createReadStream(file).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const local = readFileSync(manifestPath, 'utf8').replace(
        /uri: \S+\/(kubectl-singlestore_[^/\s]+)/g,
        `uri: http://127.0.0.1:${port}/$1`,
      );
      const localManifest = path.join(work, 'singlestore.yaml');
      writeFileSync(localManifest, local);
      const result = await runCollecting(path.join(toolsCache, 'validate-krew-manifest-v0.4.3'), [
        '-manifest',
        localManifest,
      ]);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /all 5 spec\.platforms installed fine/);
    } finally {
      server.close();
    }
  });

  test('Krew installs linux/amd64 offline; kubectl finds and runs the plugin and completes it', () => {
    const krewRoot = path.join(work, 'krew-home');
    const env = {
      KREW_ROOT: krewRoot,
      PATH: `${krewRoot}/bin:${toolsDir}:${process.env.PATH}`,
      KUBECONFIG: kubeconfig,
    };
    sh(
      'kubectl',
      ['krew', 'install', `--manifest=${manifestPath}`, `--archive=${archive('linux', 'amd64')}`],
      env,
    );
    // `krew list` needs the plugin index, which is not here offline; the receipt is what it reads.
    assert.ok(existsSync(path.join(krewRoot, 'receipts', 'singlestore.yaml')));
    assert.match(sh('kubectl', ['plugin', 'list', '--name-only'], env), /^kubectl-singlestore$/m);

    assert.match(
      sh('kubectl', ['singlestore', 'version'], env),
      new RegExp(`^kubectl-singlestore ${tag} .*linux/amd64\\)$`, 'm'),
    );
    const all = spawnSync('kubectl', ['singlestore', 'tls', 'status', '-A'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.ok(all.status === 0 || all.status === 1, all.stderr);
    assert.match(all.stdout, new RegExp(`^${ns}\\s+${database}\\s+enabled\\s.*\\sOK\\s`, 'm'));
    assert.deepEqual(
      verdict(sh('kubectl', ['singlestore', 'tls', 'status', '-n', ns, database, '-o', 'json'], env)),
      expected,
    );

    // The caveat's step: the helper beside the plugin, then kubectl's own plugin completion.
    assert.equal(
      sh('kubectl', ['singlestore', 'completion', 'helper'], env).trim(),
      `${krewRoot}/bin/kubectl_complete-singlestore`,
    );
    const completion = sh('kubectl', ['__complete', 'singlestore', 'tls', 'status', '-n', ns, ''], env);
    assert.match(completion, new RegExp(`^${database}\\b`, 'm'));
    const namespaces = sh('kubectl', ['__complete', 'singlestore', 'tls', 'status', '-n', 'release-'], env);
    assert.match(namespaces, new RegExp(`^${ns}$`, 'm'));
  });

  test('linux/arm64 runs under qemu-user: version and tls status against the cluster', () => {
    const store = krewInstall('linux', 'arm64');
    const qemu = ['-L', '/usr/aarch64-linux-gnu', path.join(store, 'kubectl-singlestore')];
    assert.match(sh('qemu-aarch64', [...qemu, 'version']), /linux\/arm64\)$/m);
    const report = sh('qemu-aarch64', [
      ...qemu,
      'tls',
      'status',
      '-n',
      ns,
      database,
      '-o',
      'json',
      '--kubeconfig',
      kubeconfig,
    ]);
    assert.deepEqual(verdict(report), expected);
  });

  test('windows/amd64 runs under wine: version and tls status against the cluster', () => {
    const store = krewInstall('windows', 'amd64');
    assert.ok(existsSync(path.join(store, 'kubectl_complete-singlestore.cmd')));
    assert.ok(existsSync(path.join(store, 'LICENSE')));
    // Node's Authenticode signature was removed before the injection, not left broken behind it.
    const signature = spawnSync(
      'osslsigncode',
      ['verify', '-in', path.join(store, 'kubectl-singlestore.exe')],
      {
        encoding: 'utf8',
      },
    );
    assert.match(signature.stdout + signature.stderr, /No signature found/);
    // A prefix of our own that reports Windows 10 (Node refuses older); wine's Node cannot write to
    // a pipe, so the output goes through files.
    const prefix = path.join(toolsCache, '..', 'wine-prefix');
    const env = { WINEPREFIX: prefix, WINEDEBUG: '-all' };
    sh('wine', ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], env);
    const wine = (args: string[]) => {
      const out = path.join(work, 'wine.out');
      const err = path.join(work, 'wine.err');
      const [outFd, errFd] = [openSync(out, 'w'), openSync(err, 'w')];
      const result = spawnSync('wine', [path.join(store, 'kubectl-singlestore.exe'), ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', outFd, errFd],
        timeout: 120_000,
      });
      closeSync(outFd);
      closeSync(errFd);
      assert.equal(result.status, 0, readFileSync(err, 'utf8'));
      return readFileSync(out, 'utf8');
    };
    assert.match(wine(['version']), /win32\/amd64\)/);
    assert.deepEqual(
      verdict(wine(['tls', 'status', '-n', ns, database, '-o', 'json', '--kubeconfig', kubeconfig])),
      expected,
    );
  });

  test('darwin binaries carry the SEA segment and a valid ad-hoc signature; the checker agrees with Apple; tampering is caught', () => {
    // The tool the release signed with; its `verify` re-hashes the file with code of its own.
    const signer = path.join(repoRoot, '.build', 'release', 'macho-sign');
    for (const arch of ['amd64', 'arm64']) {
      const store = krewInstall('darwin', arch);
      const executable = path.join(store, 'kubectl-singlestore');
      const summary = JSON.parse(sh(signer, ['verify', executable])) as {
        cpu: string;
        identifier: string;
        adhoc: boolean;
        pagesVerified: number;
        seaSegmentBytes: number;
      };
      assert.equal(summary.cpu, arch === 'arm64' ? 'CpuArm64' : 'CpuAmd64');
      assert.equal(summary.identifier, 'kubectl-singlestore');
      assert.equal(summary.adhoc, true);
      assert.ok(summary.pagesVerified > 20_000, `${summary.pagesVerified} pages`);
      assert.equal(
        summary.seaSegmentBytes,
        statSync(path.join(repoRoot, '.build', 'release', 'sea.blob')).size,
      );

      // The checker checked: it accepts Apple's own signature of the official Node build it started
      // from (same hashing rules as codesign), which is not ad-hoc and has no SEA segment.
      const official = path.join(
        repoRoot,
        '.build',
        'release',
        `node-darwin_${arch}`,
        'package',
        'bin',
        'node',
      );
      const apple = JSON.parse(sh(signer, ['verify-hashes', official])) as typeof summary;
      assert.equal(apple.adhoc, false);
      assert.ok(apple.pagesVerified > 20_000);
      assert.notEqual(spawnSync(signer, ['verify', official]).status, 0);

      const tampered = path.join(work, `tampered-${arch}`);
      const bytes = readFileSync(executable);
      const middle = Math.floor(bytes.length / 3);
      bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
      writeFileSync(tampered, bytes);
      const check = spawnSync(signer, ['verify', tampered], { encoding: 'utf8' });
      assert.notEqual(check.status, 0);
      assert.match(check.stderr, /does not match its hash/);
    }
    assert.deepEqual(readdirSync(work).filter((name) => name.startsWith('krew-darwin')).length, 2);
  });
});

/** Runs a command without blocking the event loop (the download server lives in this process). */
function runCollecting(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${toolsDir}:${process.env.PATH}` },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}
