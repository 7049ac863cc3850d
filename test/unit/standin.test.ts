/**
 * The test-only KubeDB stand-in's own spelling of KubeDB's names (test/standin/kubedb-names.ts), its
 * test switch parsing and its fake MySQL greeting: literal values from KubeDB's rules, never the
 * plugin's naming code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handshakeV10 } from '../standin/fake-wire.ts';
import {
  heldOpsPhase,
  holdOpsRequestAnnotation,
  holdRolloutAnnotation,
  rolloutHeld,
} from '../standin/holds.ts';
import {
  certificateName,
  certificateSecretName,
  governingServiceName,
  nameWithSuffix,
  petSets,
} from '../standin/kubedb-names.ts';
import { parseX509Users } from '../standin/runtime.ts';

test('the stand-in names objects as KubeDB does', () => {
  assert.equal(certificateName('sdb', 'server'), 'sdb-server-cert');
  assert.equal(certificateSecretName('sdb', 'client'), 'sdb-client-cert');
  assert.equal(certificateSecretName('sdb', 'server', [{ alias: 'server', secretName: 'mine' }]), 'mine');
  assert.equal(governingServiceName('sdb'), 'sdb-pods');
  assert.deepEqual(petSets('sdb'), [{ name: 'sdb', role: 'standalone' }]);
  assert.deepEqual(
    petSets('sdb', {}).map(({ name }) => name),
    ['sdb-aggregator', 'sdb-leaf'],
  );
  assert.deepEqual(
    petSets('sdb', { aggregator: { suffix: 'blue' }, leaf: { suffix: 'green' } }).map(({ name }) => name),
    ['sdb-blue-aggregator', 'sdb-green-leaf'],
  );
});

test('NameWithSuffix cuts the name so the result fits 63 characters', () => {
  const name = certificateName('a'.repeat(70), 'server');
  assert.equal(name, `${'a'.repeat(51)}-server-cert`);
  assert.equal(nameWithSuffix('x', 's'.repeat(70)), 's'.repeat(63));
  assert.equal(nameWithSuffix('-db-', 'x'), 'db--x');
});

test('x509-users switch: X509 and SUBJECT entries, anything else refused', () => {
  assert.deepEqual(
    parseX509Users(
      '[{"user":"app","require":"X509"},{"user":"bob","require":"SUBJECT","subject":"/CN=bob"}]',
    ),
    [
      { user: 'app', require: 'X509' },
      { user: 'bob', require: 'SUBJECT', subject: '/CN=bob' },
    ],
  );
  assert.throws(() => parseX509Users('{"user":"app"}'), /JSON array/);
  assert.throws(() => parseX509Users('[{"user":"app","require":"SSL"}]'), /require/);
  assert.throws(() => parseX509Users('[{"user":"bob","require":"SUBJECT"}]'), /subject/);
});

test('the fake greeting is a HandshakeV10 packet offering TLS only when asked', () => {
  for (const ssl of [true, false]) {
    const packet = handshakeV10({ ssl });
    assert.equal(packet.readUIntLE(0, 3), packet.length - 4);
    assert.equal(packet[4], 0x0a);
    const end = packet.indexOf(0, 5);
    const capabilities = packet.readUInt16LE(end + 1 + 4 + 8 + 1);
    assert.equal((capabilities & 0x800) !== 0, ssl);
    assert.ok(capabilities & 0x200, 'CLIENT_PROTOCOL_41');
  }
});

test('hold switches: ops requests held in Pending or Progressing, rollouts held per PetSet role', () => {
  assert.equal(heldOpsPhase(undefined), undefined);
  assert.equal(heldOpsPhase({ [holdOpsRequestAnnotation]: '' }), undefined);
  assert.equal(heldOpsPhase({ [holdOpsRequestAnnotation]: 'Pending' }), 'Pending');
  assert.equal(heldOpsPhase({ [holdOpsRequestAnnotation]: 'Progressing' }), 'Progressing');
  assert.throws(() => heldOpsPhase({ [holdOpsRequestAnnotation]: 'Successful' }), /neither Pending/);

  assert.equal(rolloutHeld(undefined, 'leaf'), false);
  assert.equal(rolloutHeld({ [holdRolloutAnnotation]: 'leaf' }, 'leaf'), true);
  assert.equal(rolloutHeld({ [holdRolloutAnnotation]: 'leaf' }, 'aggregator'), false);
  assert.equal(rolloutHeld({ [holdRolloutAnnotation]: 'aggregator, leaf' }, 'aggregator'), true);
  assert.equal(rolloutHeld({ [holdRolloutAnnotation]: 'all' }, 'standalone'), true);
  assert.throws(
    () => rolloutHeld({ [holdRolloutAnnotation]: 'leaves' }, 'leaf'),
    /unknown PetSet role\(s\) leaves/,
  );
});
