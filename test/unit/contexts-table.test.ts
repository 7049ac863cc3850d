import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Singlestore } from '../../src/kubedb/types.ts';
import { diagnose } from '../../src/tls/diagnose.ts';
import type { Snapshot } from '../../src/tls/gather.ts';
import { renderContextsTable } from '../../src/tls/render.ts';
import { day, healthySnapshot, now } from '../support/snapshot.ts';

const options = { now, warnWithinMs: 30 * day, requireTls: false, commandName: 'kubectl singlestore' };

function reportOf(mutate: (snapshot: Snapshot) => void = () => {}) {
  const snapshot = healthySnapshot();
  mutate(snapshot);
  return diagnose(snapshot, options);
}

const entries = [
  { context: 'prod-eu', report: reportOf() },
  {
    context: 'prod-us',
    report: reportOf((s) => {
      const db = (s.singlestores as { items: Singlestore[] }).items[0] as Singlestore;
      db.spec = { ...db.spec, tls: undefined };
    }),
  },
  { context: 'empty', report: reportOf((s) => Object.assign(s.singlestores, { items: [] })) },
  { context: 'down', error: 'cannot reach the API server at https://127.0.0.1:1: connection refused' },
];

const columns = (line: string) => line.trim().split(/ {2,}/);

test('contexts table: a CONTEXT column first, one row per database, one per empty or failed context', () => {
  const lines = renderContextsTable(entries, false, true).trimEnd().split('\n');
  assert.deepEqual(columns(lines[0] ?? ''), [
    'CONTEXT',
    'NAMESPACE',
    'NAME',
    'TLS',
    'ISSUER',
    'CERTS',
    'EXPIRES',
    'ROLLOUT',
    'SERVED',
    'STATUS',
    'FINDING',
  ]);
  assert.equal(lines.length, 5);
  const [, eu, us, empty, down] = lines.map(columns);
  assert.deepEqual(eu, [
    'prod-eu',
    'demo',
    'sdb',
    'enabled',
    'sdb-issuer (Ready)',
    '2/2',
    '80d',
    'done',
    '-',
    'OK',
    '-',
  ]);
  assert.deepEqual(us?.slice(0, 4), ['prod-us', 'demo', 'sdb', 'disabled']);
  assert.equal(us?.at(-1), 'TLS is not enabled (spec.tls is not set)');
  assert.deepEqual(empty, ['empty', '-', 'OK', 'no Singlestore databases']);
  assert.deepEqual(down, [
    'down',
    '-',
    'ERROR',
    'cannot reach the API server at https://127.0.0.1:1: connection refused',
  ]);
  // Every STATUS starts in the same column as its header.
  const statusColumn = (lines[0] ?? '').indexOf('STATUS');
  assert.ok(
    lines.slice(1).every((line) => /^[A-Z]/.test(line.slice(statusColumn))),
    lines.join('\n'),
  );
});

test('contexts table: wide adds the wide columns; one namespace drops NAMESPACE', () => {
  const wide = renderContextsTable(entries, true, true).split('\n')[0] ?? '';
  assert.match(wide, /SERVED +PHASE +PODS +STALE-PODS +LAST-OPS +STATUS +FINDING$/);
  const lines = renderContextsTable(entries, false, false).trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^CONTEXT +NAME +TLS /);
  assert.match(lines[1] ?? '', /^prod-eu +sdb +/);
  assert.deepEqual(columns(lines[4] ?? ''), ['down', '-', 'ERROR', entries[3]?.error]);
});
