/**
 * TEST-ONLY. Where the stand-in's server for a pod listens on a Unix socket. A socket's path must fit
 * sockaddr_un.sun_path (108 bytes on Linux, unix(7)), and a pod's runtime folder under a test bed in
 * /tmp with a long namespace and pod name does not (mariadbd: "The socket file path is too long"):
 * the socket lives in the system's temporary folder under a name derived from the pod's folder.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function podSocketPath(podDir: string): string {
  const id = createHash('sha256').update(path.resolve(podDir)).digest('hex').slice(0, 20);
  return path.join(tmpdir(), `standin-${id}.sock`);
}
