import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  archiveFiles,
  type ContextSection,
  defaultFileName,
  failedOutcome,
  unreadableOutcome,
} from '../../src/tls/bundle/bundle.ts';
import { emptyCounts, isSafeAnnotation, Pseudonyms, redactObject } from '../../src/tls/bundle/redact.ts';
import { tarGz } from '../../src/tls/bundle/tar.ts';

test('tar.gz: the system tar reads every file back, long paths included', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tar-unit-'));
  try {
    const long = `objects/${'n'.repeat(63)}/singlestoreopsrequests.ops.kubedb.com/${'x'.repeat(63)}.yaml`;
    const files = [
      { path: 'index.txt', content: Buffer.from('hello\n') },
      { path: long, content: Buffer.alloc(1500, 'a') },
      { path: 'empty', content: Buffer.alloc(0) },
    ];
    writeFileSync(path.join(dir, 'a.tar.gz'), tarGz(files, new Date('2026-01-02T03:04:05Z')));
    execFileSync('tar', ['-xzf', 'a.tar.gz'], { cwd: dir });
    for (const file of files) assert.deepEqual(readFileSync(path.join(dir, file.path)), file.content);
    const listing = execFileSync('tar', ['--utc', '-tvzf', 'a.tar.gz'], { cwd: dir, encoding: 'utf8' });
    assert.match(listing, /-rw-r--r-- 0\/0 +6 2026-01-02 03:04 index.txt/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('redaction: allowlisted annotations only, no managedFields, env names without values', () => {
  const counts = emptyCounts();
  const redacted = redactObject(
    {
      kind: 'Pod',
      metadata: {
        name: 'p',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"c2VjcmV0"}}',
          'cert-manager.io/certificate-name': 'c',
          'example.com/anything': 'x',
        },
        managedFields: [{}],
      } as never,
      spec: {
        containers: [
          {
            env: [
              { name: 'A', value: 'secret' },
              { name: 'B', valueFrom: {} },
            ],
          },
        ],
      },
    } as never,
    { dropEncodedNames: false, counts },
  );
  assert.deepEqual(redacted.metadata, {
    name: 'p',
    annotations: { 'cert-manager.io/certificate-name': 'c' },
  });
  assert.deepEqual(redacted.spec, { containers: [{ env: [{ name: 'A' }, { name: 'B', valueFrom: {} }] }] });
  assert.deepEqual(counts, { annotations: 2, envValues: 1, managedFields: 1, encodedFields: 0 });
  assert.equal(isSafeAnnotation('kubectl.kubernetes.io/last-applied-configuration'), false);
});

test('pseudonyms: whole names, longest first, the same everywhere', () => {
  const names = new Pseudonyms();
  names.addNamespace('demo');
  names.addName('db');
  names.addName('db-server-cert');
  assert.equal(
    names.apply('db-0.db-pods.demo.svc kubedb db-server-cert demonstration'),
    'name-001-0.name-001-pods.namespace-001.svc kubedb name-002 demonstration',
  );
});

test('the default file name: the context made safe, the time in UTC', () => {
  const now = new Date('2026-01-02T03:04:05.678Z');
  assert.equal(
    defaultFileName(['arn:aws:eks:eu-west-1:123456789012:cluster/prod'], now),
    'singlestore-tls-report-arn_aws_eks_eu-west-1_123456789012_cluster_prod-20260102T030405Z.tar.gz',
  );
  assert.equal(defaultFileName([''], now), 'singlestore-tls-report-in-cluster-20260102T030405Z.tar.gz');
  assert.equal(defaultFileName(['../..'], now), 'singlestore-tls-report-in-cluster-20260102T030405Z.tar.gz');
  assert.equal(defaultFileName(['a', 'b'], now), 'singlestore-tls-report-contexts-20260102T030405Z.tar.gz');
});

function section(context: string, outcome: string, extra: Partial<ContextSection> = {}): ContextSection {
  return {
    context,
    outcome,
    exitCode: 0,
    files: [
      { path: 'status.txt', description: 'status', content: Buffer.from(`${context} status\n`) },
      { path: 'objects/demo/pods/p.yaml', description: 'Pod', content: Buffer.from('kind: Pod\n') },
    ],
    dropped: emptyCounts(),
    unavailable: [],
    ...extra,
  };
}

test('many contexts, one archive: a folder per context, one index, one manifest', () => {
  const files = archiveFiles(
    [
      section('arn:aws:eks:eu-west-1:1:cluster/prod', 'OK'),
      section('limited', unreadableOutcome, {
        exitCode: 3,
        error: 'cannot list singlestores.kubedb.com in all namespaces: forbidden for user "alice"',
        unavailable: [{ what: 'secrets', reason: 'forbidden', message: 'no' }],
      }),
      { ...section('down', failedOutcome, { exitCode: 3, error: 'connection refused' }), files: [] },
    ],
    { now: new Date('2026-01-02T03:04:05Z'), redactNames: false },
  );
  assert.deepEqual(
    files.map((file) => file.path),
    [
      'index.json',
      'index.txt',
      'contexts/arn_aws_eks_eu-west-1_1_cluster_prod/status.txt',
      'contexts/arn_aws_eks_eu-west-1_1_cluster_prod/objects/demo/pods/p.yaml',
      'contexts/limited/status.txt',
      'contexts/limited/objects/demo/pods/p.yaml',
      'SHA256SUMS',
    ],
  );
  const index = JSON.parse(files[0]?.content.toString() ?? '') as {
    contexts: { context: string; folder: string; outcome: string; exitCode: number }[];
  };
  assert.deepEqual(
    index.contexts.map(({ context, folder, outcome, exitCode }) => [context, folder, outcome, exitCode]),
    [
      ['arn:aws:eks:eu-west-1:1:cluster/prod', 'contexts/arn_aws_eks_eu-west-1_1_cluster_prod/', 'OK', 0],
      ['limited', 'contexts/limited/', 'not readable', 3],
      ['down', '', 'failed', 3],
    ],
  );
  const text = files[1]?.content.toString() ?? '';
  assert.match(text, /^ {2}limited \(contexts\/limited\/\): not readable: cannot list .* \(exit 3\)$/m);
  assert.match(text, /^ {2}down: failed: connection refused \(exit 3\)$/m);
  assert.match(text, /^ {2}limited: secrets: forbidden \(no\)$/m);
  const sums = files.at(-1)?.content.toString().trim().split('\n') ?? [];
  assert.equal(sums.length, files.length - 1, 'every file but the manifest itself');
});

test('one context: its files at the root of the archive', () => {
  const files = archiveFiles([section('admin', 'WARNING')], { now: new Date(0), redactNames: false });
  assert.deepEqual(
    files.map((file) => file.path),
    ['index.json', 'index.txt', 'status.txt', 'objects/demo/pods/p.yaml', 'SHA256SUMS'],
  );
  assert.match(files[1]?.content.toString() ?? '', /^Context: admin: WARNING \(exit 0\)$/m);
});
