/**
 * Benchmark of the wire probe on the local test bed (pods that really serve TLS): what probing adds
 * to `tls status NAME` for one 3-pod database, and `tls status -A --probe` over N databases (default
 * 50, 150 pods) against the same command without `--probe`, with `kubectl get` of the same objects
 * measured in the same run for scale. Medians of `runs` runs; prints ratios; asserts nothing.
 *   node --import tsx scripts/bench-probe.ts [N] [runs]
 * BENCH_DIR=DIR keeps the test bed in DIR up after the run and reuses it next time (the databases
 * are created once); BENCH_BASELINE=BINARY measures another build in the same runs, interleaved, for
 * a before/after comparison.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';

const count = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 7);
const root = path.resolve(import.meta.dirname, '..');
const binary = path.join(root, 'dist', 'kubectl-singlestore');
const keptDir = process.env.BENCH_DIR;
const dir = keptDir ? path.resolve(keptDir) : mkdtempSync(path.join(tmpdir(), 'bench-probe-'));
const reuse = keptDir !== undefined && existsSync(path.join(dir, 'kubeconfig'));
const baseline = process.env.BENCH_BASELINE;
const kubeconfig = path.join(dir, 'kubeconfig');
const namespace = 'bench-probe';
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function cluster(action: 'up' | 'down'): void {
  execFileSync(path.join(root, 'scripts', 'test-cluster'), [action, dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', kubeconfig, '--context', 'admin', ...args], {
    encoding: 'utf8',
    ...(input ? { input } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function database(name: string): string {
  return yaml.dump({
    apiVersion: 'kubedb.com/v1alpha2',
    kind: 'Singlestore',
    metadata: { name, namespace },
    spec: {
      version: '8.7.10',
      licenseSecret: { kind: 'Secret', name: 'license' },
      storageType: 'Ephemeral',
      topology: { aggregator: { replicas: 1 }, leaf: { replicas: 2 } },
      tls: { issuerRef: { apiGroup: 'cert-manager.io', kind: 'Issuer', name: 'sdb-issuer' } },
    },
  });
}

/** Wall time of one run, in ms (the command's output is discarded). */
function timed(command: string, args: string[]): number {
  const started = performance.now();
  const result = spawnSync(command, args, {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    stdio: 'ignore',
  });
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
  return performance.now() - started;
}

/** Runs the commands in turn (A B C A B C ...) so drift hits all alike; returns each one's median. */
function medians(commands: [string, string[]][]): number[] {
  const samples: number[][] = commands.map(() => []);
  for (const [command, args] of commands) timed(command, args); // warm-up
  for (let run = 0; run < runs; run++) {
    for (const [index, [command, args]] of commands.entries()) samples[index]?.push(timed(command, args));
  }
  return samples.map((values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] as number;
  });
}

async function waitHealthy(args: string[], what: string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const result = spawnSync(binary, args, {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      encoding: 'utf8',
    });
    if (result.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  throw new Error(`${what} not healthy after ${limitMs / 1000}s`);
}

const ms = (value: number) => `${Math.round(value)} ms`;

try {
  if (reuse) {
    log(`reusing the test bed in ${dir}`);
  } else {
    log(`starting the test bed in ${dir}`);
    mkdirSync(dir, { recursive: true });
    cluster('up');
  }
  const issuer = execFileSync('cat', [path.join(root, 'test', 'fixtures', 'issuer.yaml')], {
    encoding: 'utf8',
  });
  kubectl(
    ['apply', '-f', '-'],
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}}\n---\n${issuer.replaceAll('namespace: demo', `namespace: ${namespace}`)}`,
  );
  const names = Array.from({ length: count }, (_, i) => `db-${i}`);
  log(`creating ${count} databases with 3 pods each`);
  kubectl(['apply', '-f', '-'], names.map(database).join('---\n'));
  await waitHealthy(['tls', 'status', '-n', namespace, '--probe'], `${count} databases`, 900_000);
  log('every pod serves its certificate; measuring');

  const one = ['tls', 'status', 'db-0', '-n', namespace];
  const [kubectlOne, withoutProbe, withProbe] = medians([
    ['kubectl', ['get', 'singlestores.kubedb.com', 'db-0', '-n', namespace, '-o', 'json']],
    [binary, [...one, '--probe=false']],
    [binary, one],
  ]) as [number, number, number];
  const all = ['tls', 'status', '-A', '-o', 'json'];
  const [kubectlAll, allPlain, allProbed, baselinePlain, baselineProbed] = medians([
    ['kubectl', ['get', 'singlestores.kubedb.com,certificates,secrets,petsets', '-A', '-o', 'json']],
    [binary, all],
    [binary, [...all, '--probe']],
    ...(baseline
      ? ([
          [baseline, all],
          [baseline, [...all, '--probe']],
        ] as [string, string[]][])
      : []),
  ]) as [number, number, number, number?, number?];
  const line = (text: string) => process.stdout.write(`${text}\n`);
  line(`wire probe benchmark: ${count} databases, ${count * 3} pods, medians of ${runs} runs`);
  line(`  kubectl get singlestores.kubedb.com db-0 -o json          ${ms(kubectlOne)}`);
  line(`  tls status db-0 --probe=false                               ${ms(withoutProbe)}`);
  line(
    `  tls status db-0 (3 pods probed)                             ${ms(withProbe)}  (+${ms(withProbe - withoutProbe)})`,
  );
  line(`  kubectl get singlestores,certificates,secrets,petsets -A    ${ms(kubectlAll)}`);
  line(`  tls status -A -o json                                       ${ms(allPlain)}`);
  line(
    `  tls status -A --probe -o json (${count * 3} pods)                  ${ms(allProbed)}  (x${(allProbed / allPlain).toFixed(2)} of without --probe)`,
  );
  if (baselinePlain !== undefined && baselineProbed !== undefined) {
    line(`  baseline ${baseline}:`);
    line(`  tls status -A -o json                                       ${ms(baselinePlain)}`);
    line(
      `  tls status -A --probe -o json (${count * 3} pods)                  ${ms(baselineProbed)}  (x${(baselineProbed / baselinePlain).toFixed(2)} of without --probe)`,
    );
  }
} finally {
  if (keptDir) log(`the test bed stays up: scripts/test-cluster down ${dir}`);
  else cluster('down');
}
