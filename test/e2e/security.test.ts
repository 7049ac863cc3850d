/**
 * Security: no private key or bearer token in any output at any verbosity and format, and each
 * command run as a user with exactly the role docs/rbac.yaml gives it (and with less: the missing
 * permission is named).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { Resources } from '../../src/kube/resources.ts';
import type { Secret, Singlestore } from '../../src/kubedb/types.ts';
import {
  adminClient,
  clusterEnv,
  eventually,
  kubectlApply,
  namespaceWithIssuer,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const ns = 'security-e2e';
const client = adminClient();

function database(name: string): string {
  return singlestoreYaml(name, ns);
}

function binding(user: string, role: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${user}, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${role}}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${user}}]`;
}

const as = (token: string, args: string[]) =>
  runPlugin([...args, '-n', ns, '--token', token], { timeoutMs: 120_000 });

describe('security', { skip: skipReason }, () => {
  const tokens = clusterEnv();

  before(async () => {
    await namespaceWithIssuer(ns);
    kubectlApply(
      [
        database('app'),
        database('other'),
        binding('status-user', 'kubectl-singlestore-status'),
        binding('enable-user', 'kubectl-singlestore-enable'),
        binding('rotate-user', 'kubectl-singlestore-rotate'),
        // One permission short of enabling through an ops request: it may not create them.
        `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: enable-without-create, namespace: ${ns}}
rules:
  - {apiGroups: [kubedb.com], resources: [singlestores], verbs: [get, list, patch]}
  - {apiGroups: [ops.kubedb.com], resources: [singlestoreopsrequests], verbs: [list, watch]}
  - {apiGroups: [cert-manager.io], resources: [issuers], verbs: [get, list]}`,
        `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: partial-user, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: enable-without-create}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: partial-user}]`,
      ].join('\n---\n'),
    );
    await eventually('provisioned', async () => {
      const list = await client.list<Singlestore>(Resources.singlestore, { namespace: ns });
      return list.items.length === 2 && list.items.every((db) => db.status?.phase === 'Ready');
    });
  });

  test('each command works as a user with exactly its role', async () => {
    const enabled = await as(tokens.ENABLE_TOKEN as string, [
      'tls',
      'enable',
      'app',
      '--issuer',
      'sdb-issuer',
      '--wait',
    ]);
    assert.equal(enabled.code, ExitCode.ok, enabled.stdout + enabled.stderr);
    const rotated = await as(tokens.ROTATE_TOKEN as string, [
      'tls',
      'rotate',
      'app',
      '--method',
      'cert-manager',
      '--restart-with',
      'annotation',
    ]);
    assert.equal(rotated.code, ExitCode.ok, rotated.stdout + rotated.stderr);
    const rotatedByOps = await as(tokens.ROTATE_TOKEN as string, ['tls', 'rotate', 'app']);
    assert.equal(rotatedByOps.code, ExitCode.ok, rotatedByOps.stdout + rotatedByOps.stderr);
    const status = await as(tokens.STATUS_TOKEN as string, ['tls', 'status', '-o', 'json']);
    assert.ok(status.code === ExitCode.ok || status.code === ExitCode.findings, status.stderr);
    const report = JSON.parse(status.stdout);
    // The CA Secret holds the CA's key: reading it is the separate ca-check role, not the status role.
    assert.doesNotMatch(
      JSON.stringify(report).replaceAll('CA not checked: forbidden (see the ca-check role)', ''),
      /not checked/,
      'the status role can read everything status checks',
    );
    assert.equal(report.databases.find((db: { name: string }) => db.name === 'app').health, 'OK');
  });

  test('with less, the command names the permission it lacks', async () => {
    const result = await as(tokens.PARTIAL_TOKEN as string, [
      'tls',
      'enable',
      'other',
      '--issuer',
      'sdb-issuer',
    ]);
    assert.equal(result.code, ExitCode.runtime);
    assert.equal(
      result.stderr,
      `error: cannot create singlestoreopsrequests.ops.kubedb.com in namespace "${ns}": forbidden for user "partial-user"\n`,
    );
    const status = await as(tokens.PARTIAL_TOKEN as string, ['tls', 'status', 'app']);
    assert.equal(status.code, ExitCode.findings);
    assert.match(status.stdout, /Secrets not checked: forbidden/);
  });

  test('no private key material and no bearer token in any output, at -v 9, in every format', async () => {
    // A client certificate first, so its key is among those looked for.
    const issued = await runPlugin(
      ['tls', 'client-cert', 'app', '-n', ns, '--db-user', 'leak', '--secret-only'],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(issued.code, ExitCode.ok, issued.stdout + issued.stderr);
    const keys = (
      await client.list<Secret>(Resources.secret, { namespace: ns, fieldSelector: 'type=kubernetes.io/tls' })
    ).items
      .map((secret) => Buffer.from(secret.data?.['tls.key'] ?? '', 'base64').toString())
      .filter(Boolean);
    assert.ok(keys.length >= 2);
    const secrets = [
      tokens.ADMIN_TOKEN,
      tokens.ALICE_TOKEN,
      tokens.ENABLE_TOKEN,
      tokens.ROTATE_TOKEN,
    ] as string[];
    const runs = [
      ['context'],
      ['context', '-o', 'yaml'],
      ['version', '-o', 'json'],
      ['__complete', 'tls', 'status', ''],
      ['tls', 'status', '-A'],
      ['tls', 'status', '-A', '-o', 'wide'],
      ['tls', 'status', 'app', '-n', ns],
      ['tls', 'status', 'app', '-n', ns, '-o', 'json'],
      ['tls', 'status', 'app', '-n', ns, '-o', 'yaml'],
      ['tls', 'enable', 'app', '-n', ns, '--issuer', 'sdb-issuer', '--wait'],
      ['tls', 'enable', 'other', '-n', ns, '--issuer', 'sdb-issuer', '--dry-run=server', '-o', 'yaml'],
      ['tls', 'rotate', 'app', '-n', ns, '--method', 'cert-manager', '-o', 'json'],
      ['tls', 'rotate', 'app', '-n', ns, '--dry-run=server'],
      ['tls', 'status', 'app', '-n', ns, '--context', 'limited'],
      [
        'tls',
        'client-cert',
        'app',
        '-n',
        ns,
        '--db-user',
        'leak',
        '--out',
        mkdtempSync(path.join(tmpdir(), 'leak-')),
      ],
      ['tls', 'client-cert', 'app', '-n', ns, '--db-user', 'leak', '--secret-only', '-o', 'yaml'],
      ['tls', 'client-cert', 'app', '-n', ns, '--list', '-o', 'json'],
      ['tls', 'ca', 'app', '-n', ns],
      ['tls', 'connect-info', 'app', '-n', ns, '--db-user', 'leak', '-o', 'json'],
    ];
    let scanned = 0;
    for (const args of runs) {
      for (const verbosity of ['6', '9']) {
        const result = await runPlugin([...args, '-v', verbosity], { timeoutMs: 120_000 });
        const all = result.stdout + result.stderr;
        assert.doesNotMatch(all, /PRIVATE KEY/, args.join(' '));
        for (const token of secrets) assert.ok(!all.includes(token), `token leaked by ${args.join(' ')}`);
        for (const key of keys) {
          const body = key.split('\n').slice(1, -2).join('');
          assert.ok(!all.includes(body.slice(0, 32)), `key material leaked by ${args.join(' ')}`);
        }
        scanned += all.length;
      }
    }
    process.stderr.write(`# scanned ${runs.length * 2} runs, ${scanned} characters of output: 0 leaks\n`);
  });
});
