/**
 * Bad input, table-driven: every case must give one clear `error:` line on stderr (a usage error may
 * add a "See ... --help" line), its documented exit code, no stack trace, and no write to the cluster
 * (checked on the `-v 6` request log).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { clusterDir, kubeconfig, runPlugin, skipReason } from './harness.ts';

interface Case {
  name: string;
  args: string[];
  code: number;
  message: RegExp;
  kubeconfigText?: string;
}

const usage = ExitCode.usage;
const runtime = ExitCode.runtime;

function withUser(user: string): string {
  return readFileSync(kubeconfig, 'utf8')
    .replace(/certificate-authority: pki/, `certificate-authority: ${clusterDir}/pki`)
    .replace(/- name: admin\n {2}user:\n {4}token: .*/, `- name: admin\n  user:\n${user}`);
}

const cases: Case[] = [
  {
    name: 'unknown flag',
    args: ['tls', 'status', '--frobnicate'],
    code: usage,
    message: /unknown flag: --frobnicate/,
  },
  {
    name: 'unknown command',
    args: ['tls', 'frob'],
    code: usage,
    message: /unknown command "frob" for "kubectl singlestore tls"/,
  },
  {
    name: 'enable without a name',
    args: ['tls', 'enable', '--issuer', 'x'],
    code: usage,
    message: /missing argument <name>: accepts 1 arg\(s\), received 0/,
  },
  {
    name: 'status with two names',
    args: ['tls', 'status', 'a', 'b'],
    code: usage,
    message: /unexpected argument "b": accepts at most 1 arg\(s\), received 2/,
  },
  {
    name: 'enable with two names',
    args: ['tls', 'enable', 'a', 'b', '--issuer', 'x'],
    code: usage,
    message: /unexpected argument "b": accepts at most 1 arg\(s\), received 2/,
  },
  {
    name: 'status invalid name',
    args: ['tls', 'status', 'Bad_Name'],
    code: usage,
    message: /invalid Singlestore name "Bad_Name"/,
  },
  {
    name: 'enable invalid name',
    args: ['tls', 'enable', 'UPPER', '--issuer', 'x'],
    code: usage,
    message: /invalid Singlestore name "UPPER"/,
  },
  {
    name: 'rotate invalid name',
    args: ['tls', 'rotate', 'a..b'],
    code: usage,
    message: /invalid Singlestore name "a..b"/,
  },
  {
    name: 'status unknown database',
    args: ['tls', 'status', 'no-such-db', '-n', 'demo'],
    code: runtime,
    message: /singlestores.kubedb.com "no-such-db" not found in namespace "demo"/,
  },
  {
    name: 'enable unknown database',
    args: ['tls', 'enable', 'no-such-db', '-n', 'demo', '--issuer', 'sdb-issuer'],
    code: runtime,
    message: /"no-such-db" not found in namespace "demo"/,
  },
  {
    name: 'rotate unknown database',
    args: ['tls', 'rotate', 'no-such-db', '-n', 'demo'],
    code: runtime,
    message: /"no-such-db" not found in namespace "demo"/,
  },
  {
    name: 'bad --warn-within',
    args: ['tls', 'status', '--warn-within', '5x'],
    code: usage,
    message: /--warn-within: invalid duration "5x"/,
  },
  {
    name: 'bad --duration',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '--duration', '1y'],
    code: usage,
    message: /--duration: invalid duration "1y"/,
  },
  {
    name: 'too short --duration',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '--duration', '30m'],
    code: usage,
    message: /--duration: 30m is too short/,
  },
  {
    name: 'bad --timeout',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '--timeout', 'abc'],
    code: usage,
    message: /--timeout: invalid duration "abc"/,
  },
  {
    name: 'negative --timeout',
    args: ['tls', 'rotate', 'db', '--timeout=-5m'],
    code: usage,
    message: /--timeout: negative duration/,
  },
  {
    name: 'bad --request-timeout',
    args: ['context', '--request-timeout', 'xyz'],
    code: usage,
    message: /--request-timeout: invalid duration "xyz"/,
  },
  {
    name: 'short IP',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '--ip-address', '1.2.3'],
    code: usage,
    message: /--ip-address: "1.2.3" is not an IP address/,
  },
  {
    name: 'bad IPv6',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '--ip-address', '::zz'],
    code: usage,
    message: /--ip-address: "::zz" is not an IP address/,
  },
  {
    name: 'bad DNS name',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '--dns-name=-bad-'],
    code: usage,
    message: /--dns-name: "-bad-" is not a valid DNS name/,
  },
  {
    name: 'DNS name with space',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '--dns-name', 'a b'],
    code: usage,
    message: /--dns-name: "a b" is not a valid DNS name/,
  },
  { name: 'missing --issuer', args: ['tls', 'enable', 'db'], code: usage, message: /--issuer is required/ },
  {
    name: 'bad --method',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '--method', 'magic'],
    code: usage,
    message: /invalid argument "[^"]*" for "[^"]*" flag: must be one of /,
  },
  {
    name: 'bad --dry-run',
    args: ['tls', 'rotate', 'db', '--dry-run', 'maybe'],
    code: usage,
    message: /invalid argument "[^"]*" for "[^"]*" flag: must be one of /,
  },
  {
    name: 'bad --restart-with',
    args: ['tls', 'rotate', 'db', '--restart-with', 'reboot'],
    code: usage,
    message: /invalid argument "[^"]*" for "[^"]*" flag: must be one of /,
  },
  {
    name: '--all with a name',
    args: ['tls', 'rotate', 'db', '--all'],
    code: usage,
    message: /--all cannot be combined with a name/,
  },
  {
    name: '-A with a name (rotate)',
    args: ['tls', 'rotate', 'db', '-A'],
    code: usage,
    message: /-A\/--all-namespaces cannot be combined with a name/,
  },
  {
    name: '-A with a name (status)',
    args: ['tls', 'status', 'db', '-A'],
    code: usage,
    message: /a name cannot be combined with --all-namespaces/,
  },
  {
    name: '-l with a name',
    args: ['tls', 'status', 'db', '-l', 'a=b'],
    code: usage,
    message: /a name cannot be combined with --selector/,
  },
  {
    name: '--restart-only with --no-restart',
    args: ['tls', 'rotate', 'db', '--restart-only', '--no-restart'],
    code: usage,
    message: /--restart-only cannot be combined with --no-restart/,
  },
  {
    name: '--no-restart with ops-request',
    args: ['tls', 'rotate', 'db', '--no-restart', '--method', 'ops-request'],
    code: usage,
    message: /--no-restart cannot be combined with --method ops-request/,
  },
  {
    name: 'rotate without a target',
    args: ['tls', 'rotate'],
    code: usage,
    message: /name a Singlestore, or pass --all/,
  },
  {
    name: 'bad --concurrency',
    args: ['tls', 'rotate', '--all', '--concurrency', '0'],
    code: usage,
    message: /--concurrency must be a whole number from 1 to 50/,
  },
  {
    name: 'status -o xml',
    args: ['tls', 'status', '-o', 'xml'],
    code: usage,
    message: /invalid argument "[^"]*" for "[^"]*" flag: must be one of /,
  },
  {
    name: 'enable -o table',
    args: ['tls', 'enable', 'db', '--issuer', 'x', '-o', 'table'],
    code: usage,
    message: /invalid argument "[^"]*" for "[^"]*" flag: must be one of /,
  },
  {
    name: 'version -o wide',
    args: ['version', '-o', 'wide'],
    code: usage,
    message: /invalid argument "[^"]*" for "[^"]*" flag: must be one of /,
  },
  {
    name: 'completion for tcsh',
    args: ['completion', 'tcsh'],
    code: usage,
    message: /unsupported shell "tcsh"/,
  },
  {
    name: 'completion --dir for a shell script',
    args: ['completion', 'bash', '--dir', '/tmp'],
    code: usage,
    message: /--dir goes with `completion helper` only/,
  },
  {
    name: 'completion helper into a missing folder',
    args: ['completion', 'helper', '--dir', '/nonexistent/folder'],
    code: runtime,
    message: /cannot write the helper into \/nonexistent\/folder: ENOENT/,
  },
  {
    name: 'flag without its value',
    args: ['tls', 'status', '--warn-within'],
    code: usage,
    message: /flag needs an argument: --warn-within/,
  },
  {
    name: 'malformed kubeconfig',
    args: ['context'],
    code: usage,
    message: /is not valid YAML/,
    kubeconfigText: 'clusters: [\n  - {name: x',
  },
  {
    name: 'empty kubeconfig',
    args: ['context'],
    code: usage,
    message: /no current context is set/,
    kubeconfigText: '',
  },
  {
    name: 'kubeconfig of the wrong shape',
    args: ['context'],
    code: usage,
    message: /not a kubeconfig/,
    kubeconfigText: '- just\n- a list\n',
  },
  {
    name: 'kubeconfig clusters not a list',
    args: ['context'],
    code: usage,
    message: /"clusters" must be a list/,
    kubeconfigText: 'clusters: {a: b}\n',
  },
  {
    name: 'missing current context',
    args: ['context'],
    code: usage,
    message: /context "ghost" does not exist/,
    kubeconfigText: 'current-context: ghost\ncontexts: []\n',
  },
  {
    name: 'context with a missing cluster',
    args: ['context'],
    code: usage,
    message: /cluster "gone" does not exist/,
    kubeconfigText: 'current-context: c\ncontexts:\n- name: c\n  context: {cluster: gone, user: u}\n',
  },
  {
    name: 'context with a missing user',
    args: ['context', '--context', 'admin', '--user', 'nobody'],
    code: usage,
    message: /user "nobody" does not exist/,
  },
  {
    name: 'unknown --context',
    args: ['context', '--context', 'prod'],
    code: usage,
    message: /context "prod" does not exist .*contexts: admin, limited/,
  },
  {
    name: 'missing --kubeconfig file',
    args: ['context', '--kubeconfig', '/no/such/kubeconfig'],
    code: usage,
    message: /--kubeconfig \/no\/such\/kubeconfig: no such file/,
  },
  {
    name: 'missing client certificate file',
    args: ['context', '--client-certificate', '/no/cert.pem'],
    code: runtime,
    message: /cannot read client-certificate \/no\/cert.pem: ENOENT/,
  },
  {
    name: 'exec plugin not on PATH',
    args: ['context'],
    code: runtime,
    message: /exec credential plugin "no-such-plugin-binary" was not found on PATH/,
    kubeconfigText: 'EXEC:no-such-plugin-binary',
  },
  {
    name: 'exec plugin that fails',
    args: ['context'],
    code: runtime,
    // The plugin's own stderr ("token expired") is shown above this line, as kubectl shows it.
    message: /exec credential plugin ".*" failed with exit code 1/,
    kubeconfigText: 'EXEC-SCRIPT:echo "token expired" >&2; exit 1',
  },
  {
    name: 'exec plugin that prints garbage',
    args: ['context'],
    code: runtime,
    message: /printed something that is not an ExecCredential/,
    kubeconfigText: 'EXEC-SCRIPT:echo "<html>"',
  },
  {
    name: 'legacy auth-provider',
    args: ['context'],
    code: runtime,
    message: /legacy auth-provider "gcp"/,
    kubeconfigText: 'AUTH-PROVIDER',
  },
];

describe('bad input', { skip: skipReason }, () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bad-input-'));

  function kubeconfigFor(text: string, index: number): string {
    let content = text;
    if (text.startsWith('EXEC:')) {
      content = withUser(
        `    exec: {apiVersion: client.authentication.k8s.io/v1, command: ${text.slice(5)}, interactiveMode: Never}`,
      );
    } else if (text.startsWith('EXEC-SCRIPT:')) {
      const script = path.join(scratch, `plugin-${index}`);
      writeFileSync(script, `#!/bin/sh\n${text.slice(12)}\n`);
      chmodSync(script, 0o755);
      content = withUser(
        `    exec: {apiVersion: client.authentication.k8s.io/v1, command: ${script}, interactiveMode: Never}`,
      );
    } else if (text === 'AUTH-PROVIDER') {
      content = withUser('    auth-provider: {name: gcp, config: {}}');
    }
    const file = path.join(scratch, `kubeconfig-${index}`);
    writeFileSync(file, content);
    return file;
  }

  test(`${cases.length} bad inputs: one clear line, the documented exit code, no stack trace, nothing written`, async () => {
    assert.ok(cases.length >= 40);
    for (const [index, entry] of cases.entries()) {
      const env =
        entry.kubeconfigText !== undefined ? { KUBECONFIG: kubeconfigFor(entry.kubeconfigText, index) } : {};
      // -v first: a flag left without its value at the end must stay the last word.
      const result = await runPlugin(['-v', '6', ...entry.args], { env });
      const label = `${entry.name}: ${entry.args.join(' ')}\n${result.stderr}`;
      assert.equal(result.code, entry.code, label);
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error: '));
      assert.equal(errors.length, 1, label);
      assert.match(errors[0] as string, entry.message, label);
      assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, `no stack trace: ${label}`);
      assert.doesNotMatch(result.stderr, /^(POST|PATCH|PUT|DELETE) /m, `nothing written: ${label}`);
      assert.equal(result.stdout, '', label);
    }
  });
});
