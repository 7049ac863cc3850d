import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayNameFor, runCli } from '../../src/cli/app.ts';
import { ExitCode } from '../../src/errors.ts';

async function run(args: string[], programName = 'kubectl-singlestore') {
  let out = '';
  let err = '';
  const code = await runCli(
    { programName, args },
    {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
      env: {},
      signal: new AbortController().signal,
      isTTY: false,
    },
  );
  return { code, out, err };
}

test('help says "kubectl singlestore" when run as the plugin', async () => {
  const { code, out } = await run(['--help']);
  assert.equal(code, 0);
  assert.match(out, /^Usage:\n {2}kubectl singlestore <command> \[options\]$/m);
  assert.doesNotMatch(out, /--kubeconfig/, 'the connection flags are behind `options`');
  assert.equal(displayNameFor('kubectl-singlestore.exe'), 'kubectl singlestore');
  assert.equal(displayNameFor('sdbctl'), 'sdbctl');
});

test('version: text, json and yaml', async () => {
  assert.match((await run(['version'])).out, /^kubectl-singlestore \S+ \(commit \S+, node v\d+/);
  const json = JSON.parse((await run(['version', '-o', 'json'])).out);
  assert.deepEqual(Object.keys(json), ['pluginVersion', 'gitCommit', 'nodeVersion', 'platform']);
  assert.match((await run(['version', '-o', 'yaml'])).out, /^pluginVersion: /m);
});

test('usage errors: one line, exit 2, a pointer to help, no stack trace', async () => {
  const cases: [string[], RegExp][] = [
    [['bogus'], /unknown command "bogus" for "kubectl singlestore"/],
    [['version', '-o', 'xml'], /invalid argument "xml" for "-o, --output" flag: must be one of json, yaml/],
    [['version', '--nope'], /unknown flag: --nope/],
    [['completion'], /missing argument <shell>: accepts 1 arg\(s\), received 0/],
    [['completion', 'tcsh'], /unsupported shell "tcsh"/],
    [
      ['context', '--request-timeout', 'soon', '--server', 'https://127.0.0.1:1'],
      /--request-timeout: invalid duration/,
    ],
  ];
  for (const [args, message] of cases) {
    const { code, err, out } = await run(args);
    assert.equal(code, ExitCode.usage, args.join(' '));
    assert.match(err, /^error: /, args.join(' '));
    assert.match(err, message, args.join(' '));
    assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
    assert.equal(out, '');
  }
});

test('completion scripts for each shell call __complete', async () => {
  for (const shell of ['bash', 'zsh', 'fish', 'powershell']) {
    const { code, out } = await run(['completion', shell]);
    assert.equal(code, 0);
    assert.match(out, /__complete/);
  }
});

test('the kubectl_complete-singlestore name answers completion requests', async () => {
  const { out } = await run(['ver'], 'kubectl_complete-singlestore');
  assert.equal(out, 'version\tPrint the plugin version and the Node.js version it embeds\n:4\n');
  assert.equal((await run(['__complete', 'completion', 'f'])).out, 'fish\n:4\n');
});
