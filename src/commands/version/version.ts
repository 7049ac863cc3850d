import { buildInfo } from '../../build-info.ts';
import type { Writer } from '../../kube/request-log.ts';
import { type DataFormat, renderData } from '../../output/formats.ts';

export interface VersionOptions {
  output: DataFormat | 'text';
}

export interface VersionInfo {
  pluginVersion: string;
  gitCommit: string;
  nodeVersion: string;
  platform: string;
}

export function versionInfo(): VersionInfo {
  return {
    pluginVersion: buildInfo.version,
    gitCommit: buildInfo.gitCommit,
    nodeVersion: process.version,
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function runVersion(options: VersionOptions, out: Writer): number {
  const info = versionInfo();
  if (options.output === 'text') {
    out(
      `kubectl-singlestore ${info.pluginVersion} (commit ${info.gitCommit}, node ${info.nodeVersion}, ${info.platform})\n`,
    );
  } else {
    out(renderData(info, options.output));
  }
  return 0;
}
