import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskHeaders, redactBody } from '../../src/kube/request-log.ts';

const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';

test('Authorization headers are masked, the scheme kept', () => {
  const masked = maskHeaders({ Authorization: 'Bearer abc.def', Accept: 'application/json' });
  assert.deepEqual(masked, { Authorization: 'Bearer <masked>', Accept: 'application/json' });
});

test('a Secret body has its data and last-applied annotation redacted', () => {
  const secret = {
    kind: 'Secret',
    metadata: {
      name: 's',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"tls.key":"x"}}' },
    },
    data: { 'tls.key': Buffer.from(key).toString('base64') },
  };
  const out = redactBody(JSON.stringify(secret));
  assert.doesNotMatch(out, /tls\.key":"[A-Za-z0-9+/]/);
  assert.match(out, /"data":"<redacted>"/);
  assert.doesNotMatch(out, /last-applied-configuration":"\{/);
});

test('Secrets inside a list and inside watch events are redacted', () => {
  const list = { kind: 'SecretList', items: [{ metadata: { name: 'a' }, data: { 'tls.key': 'c2VjcmV0' } }] };
  assert.doesNotMatch(redactBody(JSON.stringify(list)), /c2VjcmV0/);
  const event = { type: 'ADDED', object: { kind: 'Secret', data: { token: 'dG9rZW4=' } } };
  assert.doesNotMatch(redactBody(JSON.stringify(event)), /dG9rZW4=/);
});

test('tokens and PEM private keys are scrubbed from any body', () => {
  assert.doesNotMatch(redactBody(JSON.stringify({ status: { token: 'sekret' } })), /sekret/);
  assert.doesNotMatch(redactBody(`not json ${key}`), /MIIEvQ/);
});

test('other objects are logged as they are, truncated when long', () => {
  const certificate = { kind: 'Certificate', spec: { secretName: 'db-server-cert' } };
  assert.equal(redactBody(JSON.stringify(certificate)), JSON.stringify(certificate));
  assert.match(redactBody('x'.repeat(5000), 100), /truncated 4900 chars/);
});

test('literal env values and every last-applied annotation are redacted, references kept', () => {
  const pods = {
    kind: 'PodList',
    items: [
      {
        kind: 'Pod',
        metadata: {
          annotations: {
            'kubectl.kubernetes.io/last-applied-configuration': '{"env":[{"value":"hunter2"}]}',
          },
        },
        spec: {
          containers: [
            {
              env: [
                { name: 'ROOT_PASSWORD', value: 'hunter2' },
                { name: 'FROM', valueFrom: { secretKeyRef: { name: 'auth', key: 'password' } } },
              ],
            },
          ],
        },
      },
    ],
  };
  const out = redactBody(JSON.stringify(pods));
  assert.doesNotMatch(out, /hunter2/);
  assert.match(out, /"name":"ROOT_PASSWORD","value":"<redacted>"/);
  assert.match(out, /"secretKeyRef":\{"name":"auth","key":"password"\}/);
});

test('bearer tokens in any text, and credential-named fields, are redacted', () => {
  assert.equal(
    redactBody('proxy said: Authorization: Bearer abc.def-ghi'),
    'proxy said: Authorization: Bearer <redacted>',
  );
  const out = redactBody(JSON.stringify({ spec: { 'id-token': 'x1', clientSecret: 'x2', automount: true } }));
  assert.doesNotMatch(out, /x1|x2/);
  assert.match(out, /"automount":true/);
});
