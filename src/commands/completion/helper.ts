/**
 * The kubectl_complete-singlestore helper: kubectl (1.26+) runs it from PATH to complete
 * `kubectl singlestore ...`. Krew cannot install it (krew#812), so the release archives carry it and
 * `completion helper` writes it beside the plugin. The release build uses the same content.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { helperProgramName } from './complete-command.ts';

export interface HelperFile {
  name: string;
  content: string;
}

/** A shell script, or on Windows a .cmd (kubectl finds it through PATHEXT). */
export function helperFile(os: 'windows' | 'unix'): HelperFile {
  if (os === 'windows') {
    return {
      name: `${helperProgramName}.cmd`,
      content: '@echo off\r\nkubectl-singlestore.exe __complete %*\r\n',
    };
  }
  return {
    name: helperProgramName,
    content:
      '#!/bin/sh\n# Shell completion for `kubectl singlestore` (kubectl >= 1.26 runs this from PATH).\nexec kubectl-singlestore __complete "$@"\n',
  };
}

/** The first PATH folder holding the plugin (Krew's bin folder, typically), as kubectl finds it. */
export function pluginDirectoryOnPath(
  pathVariable: string | undefined,
  os: 'windows' | 'unix',
  exists: (file: string) => boolean = existsSync,
): string | undefined {
  const program = os === 'windows' ? 'kubectl-singlestore.exe' : 'kubectl-singlestore';
  const delimiter = os === 'windows' ? ';' : ':';
  return (pathVariable ?? '')
    .split(delimiter)
    .filter(Boolean)
    .find((folder) => exists(path.join(folder, program)));
}

/** Writes the helper into `folder` (replacing an older one atomically); returns its path. */
export function writeHelper(folder: string, os: 'windows' | 'unix'): string {
  const helper = helperFile(os);
  const target = path.join(folder, helper.name);
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, helper.content, { mode: 0o755 });
  renameSync(temporary, target);
  return target;
}
