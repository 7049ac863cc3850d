/**
 * Entry point of the single executable (its Node SEA `main`): sets V8's flags for the run, then runs
 * the bundle of cmd/kubectl-singlestore.ts, stored in the executable as an asset, through a V8 code
 * cache kept per command in the user's cache directory (src/util/code-cache.ts says why and which). A
 * cache that cannot be read, is refused by V8 or cannot be written changes nothing but the start-up time.
 */
import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getAsset } from 'node:sea';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';
import {
  cacheFileName,
  commandKey,
  finishedRun,
  userCacheDir,
  v8Flags,
  writableOnlyBy,
} from '../src/util/code-cache.ts';

/** The first 16 hex digits of the bundle's SHA-256, written in by scripts/build. */
declare const __BUNDLE_DIGEST__: string;

const bundleAsset = 'kubectl-singlestore.cjs';
/** A file not written for this long goes when a cache is written: other builds', stray temporaries. */
const staleAfterMs = 7 * 24 * 3600 * 1000;

const args = process.argv.slice(2);
for (const flag of v8Flags(args)) setFlagsFromString(flag);
const base = userCacheDir(process.env, process.platform, os.homedir());
const dir = base ? path.join(base, 'kubectl-singlestore', 'code-cache') : undefined;
const file = dir ? path.join(dir, cacheFileName(__BUNDLE_DIGEST__, commandKey(args))) : undefined;
const cachedData = file ? readCache(file) : undefined;
// The asset is the bundle as a function expression, in ASCII (scripts/build).
const script = new vm.Script(getAsset(bundleAsset, 'latin1'), {
  filename: bundleAsset,
  ...(cachedData ? { cachedData } : {}),
});
if (dir && file && (!cachedData || script.cachedDataRejected)) {
  process.once('exit', (code) => {
    if (finishedRun(code)) writeCache(dir, file, script);
  });
}
const bundle = { exports: {} };
script.runInThisContext()(bundle.exports, require, bundle, process.execPath, path.dirname(process.execPath));

function readCache(cacheFile: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(cacheFile, 'r');
    // Checked on the open file: what is read is what was checked.
    const stat = fstatSync(fd);
    return stat.isFile() && writableOnlyBy(stat, process.getuid?.()) ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Written whole under a temporary name, then renamed: a concurrent run reads the old file or the new. */
function writeCache(cacheDir: string, cacheFile: string, compiled: vm.Script): void {
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const folder = lstatSync(cacheDir);
    if (!folder.isDirectory() || !writableOnlyBy(folder, process.getuid?.())) return;
    // 'wx': a file (or a link) already there under that name is an error, never written through.
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(temporary, compiled.createCachedData(), { mode: 0o600, flag: 'wx' });
    renameSync(temporary, cacheFile);
    const now = Date.now();
    for (const name of readdirSync(cacheDir)) {
      const other = path.join(cacheDir, name);
      if (other !== cacheFile && now - statSync(other).mtimeMs > staleAfterMs) rmSync(other, { force: true });
    }
  } catch {
    // A cache that cannot be written is a slower start next time, nothing more.
  }
}
