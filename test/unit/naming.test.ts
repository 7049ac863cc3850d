import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateName, nameWithSuffix, petSetNames, serverDnsNames } from '../../src/kubedb/naming.ts';

test('certificate and secret names follow KubeDB', () => {
  assert.equal(certificateName('sdb', 'server'), 'sdb-server-cert');
  assert.equal(certificateName('sdb', 'client'), 'sdb-client-cert');
});

test('long database names are shortened so the name fits 63 characters', () => {
  const long = 'a'.repeat(70);
  const name = certificateName(long, 'server');
  assert.equal(name.length, 63);
  assert.ok(name.endsWith('-server-cert'));
  assert.equal(nameWithSuffix('db-', 'x'), 'db--x');
});

test('server SANs cover the services KubeDB creates', () => {
  assert.deepEqual(serverDnsNames('sdb', 'demo'), [
    '*.sdb-pods.demo.svc',
    '*.sdb-pods.demo.svc.cluster.local',
    '*.sdb.demo.svc',
    'localhost',
    'sdb',
    'sdb.demo.svc',
  ]);
});

test('PetSets: aggregator and leaf for a cluster, one for standalone', () => {
  assert.deepEqual(petSetNames('sdb', true), ['sdb-aggregator', 'sdb-leaf']);
  assert.deepEqual(petSetNames('sdb', false), ['sdb']);
});
