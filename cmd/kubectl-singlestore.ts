/**
 * Entry point of the kubectl-singlestore binary (and of its kubectl_complete-singlestore helper name).
 * The only place that touches process.exit, signals and the real streams.
 */
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { isatty } from 'node:tty';
import { runCli } from '../src/cli/app.ts';
import { ExitCode } from '../src/errors.ts';

async function main(): Promise<void> {
  const controller = new AbortController();
  // Every request in flight listens to the interrupt: a status reads a dozen kinds or more at once.
  setMaxListeners(0, controller.signal);
  let interrupts = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupts++;
      // A second Ctrl-C while the command is winding down ends it at once.
      if (interrupts > 1) process.exit(ExitCode.interrupted);
      controller.abort();
    });
  }
  // In a single executable argv[1] is the binary itself; from source it is this script.
  const programName = path.basename(process.argv[1] ?? 'kubectl-singlestore').replace(/\.([cm]?[jt]s)$/, '');
  const exitCode = await runCli(
    { programName, args: process.argv.slice(2) },
    {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      env: process.env,
      signal: controller.signal,
      isTTY: Boolean(process.stderr.isTTY),
      ...(process.stdout.isTTY ? { columns: process.stdout.columns } : {}),
      // isatty(0) rather than process.stdin, which would open a stream on stdin.
      stdinIsTTY: isatty(0),
    },
  );
  process.exitCode = controller.signal.aborted ? ExitCode.interrupted : exitCode;
}

void main();
