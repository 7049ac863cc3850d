/**
 * The official Node binaries a release embeds, taken from npm at the versions package-lock.json pins
 * and checked against the lockfile's sha512 integrity before use (npm ci skips the other platforms'
 * packages, so the release fetches them itself, through npm and its cache).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export interface LockedPackage {
  name: string;
  version: string;
  /** `sha512-<base64>`, as npm writes it. */
  integrity: string;
}

export function lockedPackage(lockfile: string, name: string): LockedPackage {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as {
    packages?: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages?.[`node_modules/${name}`];
  if (!entry?.version || !entry.integrity?.startsWith('sha512-')) {
    throw new Error(`${name} is not pinned with a sha512 integrity in ${lockfile}: add it to package.json`);
  }
  return { name, version: entry.version, integrity: entry.integrity };
}

export function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/**
 * The package's tarball in `cacheDir` (fetched with `npm pack` when absent), verified against the
 * lockfile; then the listed members extracted under `into`. Returns the extraction folder.
 */
export function fetchNodePackage(
  locked: LockedPackage,
  members: string[],
  cacheDir: string,
  into: string,
): string {
  mkdirSync(cacheDir, { recursive: true });
  const tarball = path.join(cacheDir, `${locked.name}-${locked.version}.tgz`);
  if (!existsSync(tarball) || integrityOf(tarball) !== locked.integrity) {
    rmSync(tarball, { force: true });
    execFileSync(
      'npm',
      ['pack', `${locked.name}@${locked.version}`, '--pack-destination', cacheDir, '--silent'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }
  const actual = integrityOf(tarball);
  if (actual !== locked.integrity) {
    throw new Error(`${tarball}: integrity ${actual} does not match package-lock.json (${locked.integrity})`);
  }
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', into, ...members.map((member) => `package/${member}`)]);
  return path.join(into, 'package');
}
