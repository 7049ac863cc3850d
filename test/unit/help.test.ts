/**
 * Help pages: snapshots of every page at 80 and 120 columns, the layout rules (no line over the width,
 * no word split), the first-contact behaviour, every example parsed and validated, and that help loads
 * neither the Kubernetes client nor the tls modules.
 * Update the snapshots after a deliberate change with: UPDATE_SNAPSHOTS=1 npm run test:unit
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../src/cli/app.ts';
import { ExitCode } from '../../src/errors.ts';
import { helpExamples, helpPages } from '../support/help-pages.ts';

const snapshots = path.resolve(import.meta.dirname, '..', 'snapshots', 'help');
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

async function run(args: string[], options: { columns?: number; env?: Record<string, string> } = {}) {
  let out = '';
  let err = '';
  const code = await runCli(
    { programName: 'kubectl-singlestore', args },
    {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
      env: options.env ?? {},
      signal: new AbortController().signal,
      isTTY: false,
      ...(options.columns ? { columns: options.columns } : {}),
    },
  );
  return { code, out, err };
}

/** The words of a page, with the `\` continuations and the `#` of wrapped comments left out. */
function words(page: string): string[] {
  return page.split(/\s+/).filter((word) => word !== '' && word !== '\\' && word !== '#');
}

function matchSnapshot(name: string, actual: string): void {
  const file = path.join(snapshots, name);
  if (process.env.UPDATE_SNAPSHOTS === '1' || !existsSync(file)) {
    mkdirSync(snapshots, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} (UPDATE_SNAPSHOTS=1 to accept a change)`);
}

const pages = [
  ...helpPages().map((page) => ({ name: page.name, args: [...page.words, '--help'] })),
  { name: 'options-output', args: ['options'] },
];

for (const width of [80, 120]) {
  test(`every help page at ${width} columns: snapshot, width, no word split`, async () => {
    for (const page of pages) {
      const { code, out, err } = await run(page.args, { columns: width });
      assert.equal(code, ExitCode.ok, page.name);
      assert.equal(err, '', page.name);
      matchSnapshot(`${page.name}-${width}.txt`, out);
      for (const line of out.split('\n')) {
        assert.ok(line.length <= width, `${page.name}: ${line.length} > ${width} columns: ${line}`);
        assert.doesNotMatch(line, /\s$/, `${page.name}: trailing space: "${line}"`);
      }
      const unwrapped = (await run(page.args, { columns: 10_000 })).out;
      assert.deepEqual(words(out), words(unwrapped), `${page.name}: wrapping split a word`);
    }
  });
}

test("every page follows kubectl's layout", async () => {
  for (const page of helpPages()) {
    const { out } = await run([...page.words, '--help']);
    const headings = out.split('\n').filter((line) => /^[A-Z][A-Za-z ]+:$/.test(line));
    const expected = [
      ...(page.command.examples?.length ? ['Examples:'] : []),
      ...(page.command.subcommands?.length ? ['Available Commands:'] : []),
      ...(page.command.flags?.length ? ['Options:'] : []),
      'Usage:',
    ];
    assert.deepEqual(headings, expected, page.name);
    const fullName = ['kubectl singlestore', ...page.words].join(' ');
    assert.match(out, new RegExp(`^Usage:\\n {2}${fullName}( |$)`, 'm'), `${page.name}: full command path`);
    const tips = out.replaceAll('\n', ' ');
    if (page.command.subcommands?.length) {
      assert.ok(tips.includes(`Use "${fullName} <command> --help" for more information about a command.`));
    }
    assert.ok(
      tips.endsWith(
        'Use "kubectl singlestore options" for a list of global command-line options (applies to all commands). ',
      ),
      page.name,
    );
    assert.doesNotMatch(out, /--kubeconfig/, `${page.name}: connection flags belong to \`options\``);
    for (const flag of page.command.flags ?? []) assert.match(out, new RegExp(`--${flag.name}=`), flag.name);
  }
  const options = (await run(['options'])).out;
  assert.match(options, /^The following options can be passed to any command:\n\n {4}--kubeconfig='':\n/);
  assert.match(options, /^ {4}-n, --namespace='':$/m);
});

test('first contact: no arguments, a bare group, a mistyped command', async () => {
  const root = await run([]);
  assert.equal(root.code, ExitCode.ok);
  assert.equal(root.out, (await run(['--help'])).out);
  assert.equal(root.err, '');

  const tls = await run(['tls']);
  assert.equal(tls.code, ExitCode.usage, 'a group without its command is a usage error, as in kubectl');
  assert.equal(tls.out, (await run(['tls', '--help'])).out);

  const typo = await run(['tls', 'stauts', 'sample-sdb']);
  assert.equal(typo.code, ExitCode.usage);
  assert.equal(
    typo.err,
    'error: unknown command "stauts" for "kubectl singlestore tls"\n\nDid you mean this?\n\tstatus\n\n' +
      "See 'kubectl singlestore tls --help' for usage.\n",
  );
  assert.match((await run(['verison'])).err, /Did you mean this\?\n\tversion\n/);
  assert.match((await run(['ver'])).err, /Did you mean this\?\n\tversion\n/);
  assert.match((await run(['rotate', 'sample-sdb'])).err, /Did you mean this\?\n\ttls rotate\n/);
  const far = await run(['frobnicate']);
  assert.equal(far.code, ExitCode.usage);
  assert.doesNotMatch(far.err, /Did you mean/);
  assert.equal(
    (await run(['tls', 'status', '-n', 'demo', '-h'])).out,
    (await run(['tls', 'status', '--help'])).out,
  );
  assert.equal((await run(['sdbctl'], { columns: 80 })).code, ExitCode.usage);
});

test('help says the binary name when not run as a kubectl plugin', async () => {
  let out = '';
  await runCli(
    { programName: 'sdbctl', args: ['tls', '--help'] },
    {
      out: (text) => {
        out += text;
      },
      err: () => {},
      env: {},
      signal: new AbortController().signal,
      isTTY: false,
    },
  );
  assert.match(out, /^ {2}sdbctl tls <command> \[options\]$/m);
  assert.doesNotMatch(out, /kubectl singlestore/);
});

test('every example in help parses and validates (the cluster ones up to the first request)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'help-examples-'));
  // A kubeconfig with the examples' contexts, pointing at a port where nothing listens.
  writeFileSync(
    path.join(dir, 'kubeconfig'),
    `apiVersion: v1
kind: Config
current-context: default
clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: someone, user: {token: not-a-real-token}}]
contexts:
- {name: default, context: {cluster: nowhere, user: someone, namespace: demo}}
- {name: prod, context: {cluster: nowhere, user: someone}}
`,
  );
  // `completion helper` writes beside the plugin on PATH.
  writeFileSync(path.join(dir, 'kubectl-singlestore'), '');
  const env = { KUBECONFIG: path.join(dir, 'kubeconfig'), PATH: dir, HOME: dir };
  const examples = helpExamples();
  assert.ok(examples.length >= 10);
  for (const example of examples) {
    const { code, err } = await run(example.args, { env });
    if (example.needsCluster) {
      assert.equal(code, ExitCode.runtime, `${example.line}: ${err}`);
      assert.match(err, /cannot reach the API server at https:\/\/127\.0\.0\.1:1/, example.line);
    } else {
      assert.equal(code, ExitCode.ok, `${example.line}: ${err}`);
    }
  }
});

test('help loads neither the Kubernetes client nor the tls modules', () => {
  for (const args of [['--help'], ['tls', 'status', '--help'], ['tls'], []]) {
    const record = path.join(mkdtempSync(path.join(tmpdir(), 'help-loads-')), 'loaded');
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        path.join(repoRoot, 'test', 'support', 'record-loads.ts'),
        path.join(repoRoot, 'cmd', 'kubectl-singlestore.ts'),
        ...args,
      ],
      { cwd: repoRoot, env: { ...process.env, RECORD_LOADS: record }, encoding: 'utf8' },
    );
    assert.ok(result.status === ExitCode.ok || result.status === ExitCode.usage, result.stderr);
    const loaded = readFileSync(record, 'utf8');
    assert.match(loaded, /src\/cli\/help\.ts/, 'the recorder works');
    for (const forbidden of [/@kubernetes/, /src\/kube\/(client|factory)\.ts/, /src\/tls\//]) {
      assert.doesNotMatch(loaded, forbidden, `${args.join(' ')} loaded ${forbidden}`);
    }
  }
});
