/**
 * Writing certificate files for clients: a plan decided from what is on disk (pure), then atomic
 * writes (a temporary file in the same folder, renamed over the target), the key readable by its
 * owner only. Identical files are left alone; files from an earlier issuance of the same certificate
 * (same subject and issuer: a renewal, a CA rotation) are refreshed; anything else is refused
 * unless the caller overwrites.
 */
import type { X509Certificate } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { CliError, ExitCode } from '../errors.ts';
import { parseCertificates } from './x509.ts';

/** Refused because of the local files: nothing was written. */
export class FileRefusal extends CliError {
  constructor(message: string) {
    super(message, ExitCode.runtime);
  }
}

export interface OutputFile {
  name: string;
  content: string;
  /** 0o600 for a private key. */
  mode: number;
}

export type FilePlan =
  | { action: 'unchanged' }
  | { action: 'write'; why: 'new' | 'refresh' | 'overwrite' }
  | { action: 'refuse'; reason: string };

/** What the folder holds now: file name -> content, or undefined when absent. */
export type OnDisk = Record<string, string | undefined>;

/**
 * Decide what to do with a set of files. `identity` is the subject (and, when known, issuer) the
 * certificate file must keep for a refresh without --overwrite.
 */
export function planFiles(options: {
  onDisk: OnDisk;
  files: OutputFile[];
  certificateFile?: string;
  identity?: { subject: string; issuer?: string };
  overwrite: boolean;
}): FilePlan {
  const { onDisk, files, overwrite } = options;
  const present = files.filter((file) => onDisk[file.name] !== undefined);
  if (present.length === 0) return { action: 'write', why: 'new' };
  if (present.length === files.length && files.every((file) => onDisk[file.name] === file.content))
    return { action: 'unchanged' };
  if (overwrite) return { action: 'write', why: 'overwrite' };
  const certFile = options.certificateFile;
  const existing = certFile ? onDisk[certFile] : undefined;
  const found = existing ? certificateIdentity(existing) : undefined;
  const wanted = options.identity;
  if (
    found &&
    wanted &&
    found.subject === wanted.subject &&
    (!wanted.issuer || found.issuer === wanted.issuer)
  )
    return { action: 'write', why: 'refresh' };
  const names = present.map((file) => file.name).join(', ');
  const what = found
    ? `a certificate for ${found.subject}`
    : existing === undefined
      ? 'other files'
      : 'something else';
  return {
    action: 'refuse',
    reason: `${names} already exist with other content (${what}); pass --overwrite to replace them`,
  };
}

/** The subject and issuer of the first certificate in a PEM text, in Node's one-field-a-line form. */
export function certificateIdentity(pem: string): { subject: string; issuer: string } | undefined {
  try {
    const [leaf] = parseCertificates(pem);
    return leaf ? { subject: leaf.subject, issuer: leaf.issuer } : undefined;
  } catch {
    return undefined;
  }
}

/** Refuse early, before anything is written anywhere, when the folder cannot take the files. */
export function checkWritableFolder(dir: string): void {
  let target = dir;
  try {
    if (!statSync(dir).isDirectory()) throw new FileRefusal(`--out ${dir}: exists and is not a folder`);
  } catch (error) {
    if (error instanceof FileRefusal) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new FileRefusal(`--out ${dir}: cannot write there (${message(error)})`);
    target = path.dirname(path.resolve(dir));
  }
  try {
    accessSync(target, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new FileRefusal(`--out ${dir}: cannot write there (${message(error)})`);
  }
}

export function readOnDisk(dir: string, names: string[]): OnDisk {
  const onDisk: OnDisk = {};
  for (const name of names) {
    try {
      onDisk[name] = readFileSync(path.join(dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new FileRefusal(`cannot read ${path.join(dir, name)}: ${message(error)}`);
    }
  }
  return onDisk;
}

/** Each file through a temporary file in the same folder and a rename: never a half-written file. */
export function writeFilesAtomically(dir: string, files: OutputFile[]): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const file of files) {
      const target = path.join(dir, file.name);
      const temporary = path.join(dir, `.${file.name}.${process.pid}.tmp`);
      writeFileSync(temporary, file.content, { mode: file.mode, flag: 'w' });
      chmodSync(temporary, file.mode);
      renameSync(temporary, target);
    }
  } catch (error) {
    throw new FileRefusal(`cannot write to ${dir}: ${message(error)}`);
  }
}

function message(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}` : (error as Error).message;
}

/** Certificates in a PEM text, each once (by fingerprint), in order. */
export function distinctCertificates(pems: string[]): X509Certificate[] {
  const seen = new Set<string>();
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    for (const certificate of parseCertificates(pem)) {
      if (seen.has(certificate.fingerprint256)) continue;
      seen.add(certificate.fingerprint256);
      out.push(certificate);
    }
  }
  return out;
}

/**
 * Read what is there, plan, and write when the plan says so; a refusal throws before any write.
 * Answers what was done: 'unchanged', or why the files were written.
 */
export function syncFiles(options: {
  dir: string;
  files: OutputFile[];
  /** The certificate file whose subject (and issuer) allows a refresh; see planFiles. */
  certificateFile?: string;
  identity?: { subject: string; issuer?: string };
  overwrite: boolean;
  /** Names the target in a refusal (the folder, or the --out file). */
  label: string;
}): 'unchanged' | 'new' | 'refresh' | 'overwrite' {
  const { dir, files, label, ...rest } = options;
  const plan = planFiles({
    onDisk: readOnDisk(
      dir,
      files.map((file) => file.name),
    ),
    files,
    ...rest,
  });
  if (plan.action === 'refuse') throw new FileRefusal(`${label}: ${plan.reason}`);
  if (plan.action === 'unchanged') return 'unchanged';
  writeFilesAtomically(dir, files);
  return plan.why;
}
