/**
 * A gzip-compressed tar archive of in-memory files: the POSIX ustar format (IEEE Std 1003.1, "pax"
 * chapter, ustar Interchange Format), written by hand so the report needs no new dependency, and
 * compressed with Node's own zlib. Every entry is a regular file, mode 0644, owned by uid/gid 0,
 * with one modification time: the archive is the same bytes for the same content and clock.
 */
import { gzipSync } from 'node:zlib';

export interface ArchiveFile {
  /** A relative path with `/` separators. */
  path: string;
  content: Buffer;
}

const block = 512;

export function tarGz(files: ArchiveFile[], modified: Date): Buffer {
  const mtime = Math.floor(modified.getTime() / 1000);
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(header(file.path, file.content.length, mtime), file.content, padding(file.content.length));
  }
  // The end of an archive: two zero blocks.
  parts.push(Buffer.alloc(block * 2));
  return gzipSync(Buffer.concat(parts));
}

function padding(size: number): Buffer {
  return Buffer.alloc((block - (size % block)) % block);
}

/** Splits a path longer than 100 bytes into ustar's prefix (155) and name (100) at a `/`. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  throw new Error(`path too long for a tar archive: ${path}`);
}

function header(path: string, size: number, mtime: number): Buffer {
  const buffer = Buffer.alloc(block);
  const { prefix, name } = splitPath(path);
  const field = (offset: number, length: number, value: string) =>
    buffer.write(value, offset, length, 'utf8');
  const octal = (offset: number, length: number, value: number) =>
    field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, mtime);
  // The checksum is computed with its own field read as eight spaces.
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  field(345, 155, prefix);
  let sum = 0;
  for (const byte of buffer) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return buffer;
}
