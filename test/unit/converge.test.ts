/**
 * The planners of enable, rotate and disable, table-tested from snapshots: every interrupted state
 * a re-run can find (before the write; its ops request Pending, Progressing, Successful, Failed;
 * certificates issued but pods not restarted; mid-rollout; done within and after the re-run
 * window), plus chooseMethod, tlsDiff, the markers, the restart decision and the wait steps'
 * evaluate functions.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { ApiError } from '../../src/errors.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import type { Certificate, OpsRequest, PetSet, Secret, Singlestore } from '../../src/kubedb/types.ts';
import { createProgress } from '../../src/output/progress.ts';
import { auditEvent } from '../../src/tls/converge/audit.ts';
import { type ExecuteSettings, executePlan } from '../../src/tls/converge/execute.ts';
import {
  formatRenewalMarker,
  formatRotatedMarker,
  liveRenewalMarker,
  recentRotation,
  rotateFromSerials,
} from '../../src/tls/converge/markers.ts';
import type { Action, ConvergeSnapshot, Plan } from '../../src/tls/converge/model.ts';
import {
  chooseMethod,
  type EnablePlanOptions,
  planDisable,
  planEnable,
  planRotate,
  type RotatePlanOptions,
  restartDecision,
} from '../../src/tls/converge/plan.ts';
import { desiredTls, tlsDiff } from '../../src/tls/spec.ts';
import {
  certificatesStep,
  deadlineFrom,
  opsRequestStep,
  podReplacedStep,
  rolloutStep,
  secretsStep,
} from '../../src/tls/wait.ts';
import { forgeCertificate } from '../support/x509-forge.ts';

const now = new Date('2026-11-29T06:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
const issuerRef = { apiGroup: 'cert-manager.io', kind: 'Issuer', name: 'sdb-issuer' };

function certificate(
  name: string,
  fields: { revision?: number; annotations?: Record<string, string>; issuing?: boolean } = {},
): Certificate {
  return {
    metadata: { name, namespace: 'demo', resourceVersion: '10', annotations: fields.annotations ?? {} },
    spec: { secretName: name, issuerRef: { name: 'sdb-issuer' } },
    status: {
      revision: fields.revision ?? 1,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Ready' },
        ...(fields.issuing ? [{ type: 'Issuing', status: 'True', reason: 'ManuallyTriggered' }] : []),
      ],
    },
  };
}

function petSet(restartedAt?: string): PetSet {
  return {
    metadata: { name: 'sdb', namespace: 'demo' },
    spec: {
      replicas: 2,
      template: {
        metadata: { annotations: restartedAt ? { 'kubectl.kubernetes.io/restartedAt': restartedAt } : {} },
      },
    },
  };
}

function opsRequest(
  operation: string,
  phase: string | undefined,
  fields: {
    created?: string;
    finished?: string;
    annotations?: Record<string, string>;
    tls?: OpsRequest['spec']['tls'];
    type?: string;
    ours?: boolean;
  } = {},
): OpsRequest {
  return {
    metadata: {
      name: `sdb-${operation}-x1`,
      namespace: 'demo',
      creationTimestamp: fields.created ?? minutesAgo(10),
      labels:
        fields.ours === false
          ? {}
          : { 'app.kubernetes.io/managed-by': 'kubectl-singlestore', 'app.kubernetes.io/instance': 'sdb' },
      annotations: { 'kubectl-singlestore.kubedb.com/operation': operation, ...fields.annotations },
    },
    spec: {
      type: fields.type ?? 'ReconfigureTLS',
      databaseRef: { name: 'sdb' },
      ...(fields.tls ? { tls: fields.tls } : {}),
    },
    ...(phase
      ? {
          status: {
            phase,
            conditions: [
              { type: phase, status: 'True', lastTransitionTime: fields.finished ?? minutesAgo(5) },
            ],
          },
        }
      : {}),
  };
}

function snapshot(
  fields: Partial<ConvergeSnapshot> & { tls?: boolean; certs?: Certificate[] } = {},
): ConvergeSnapshot {
  const { tls = true, certs, ...rest } = fields;
  const db: Singlestore = {
    metadata: { name: 'sdb', namespace: 'demo', resourceVersion: '7', uid: 'u-1' },
    spec: tls ? { tls: { issuerRef } } : {},
    status: { phase: 'Ready' },
  };
  const [server, client] = certs ?? [certificate('sdb-server-cert'), certificate('sdb-client-cert')];
  return {
    now,
    db,
    certManager: true,
    opsManager: true,
    certificates: tls
      ? [
          {
            alias: 'server',
            name: 'sdb-server-cert',
            secret: 'sdb-server-cert',
            ...(server ? { certificate: server } : {}),
            issued: { serial: 'aa01', notBefore: minutesAgo(120), notAfter: '2027-01-01T00:00:00Z' },
          },
          {
            alias: 'client',
            name: 'sdb-client-cert',
            secret: 'sdb-client-cert',
            ...(client ? { certificate: client } : {}),
            issued: { serial: 'bb01', notBefore: minutesAgo(120), notAfter: '2027-01-01T00:00:00Z' },
          },
        ]
      : [],
    petSets: [{ name: 'sdb', petSet: petSet() }],
    opsRequests: [],
    issuer: { what: 'Issuer "sdb-issuer" in namespace "demo"', cluster: false, found: true, ready: true },
    ...rest,
  };
}

const rotateOptions: RotatePlanOptions = {
  method: 'auto',
  restartOnly: false,
  staleOnly: false,
  noRestart: false,
  restartWith: 'auto',
  dryRun: 'none',
  wait: true,
  force: false,
};

const kinds = (plan: Plan) =>
  plan.actions.map((action) => (action.kind === 'wait' ? `wait:${action.wait.step}` : action.kind));

function find<K extends Action['kind']>(plan: Plan, kind: K): Extract<Action, { kind: K }> {
  const action = plan.actions.find((item) => item.kind === kind);
  assert.ok(action, `${kind} in ${kinds(plan)}`);
  return action as Extract<Action, { kind: K }>;
}

test('rotate by ops request, state by state: before the write, in flight, finished, failed', () => {
  const cases: {
    state: string;
    requests: OpsRequest[];
    force?: boolean;
    expect: string[];
    upToDate?: RegExp;
  }[] = [
    {
      state: 'before the write',
      requests: [],
      expect: [
        'create-ops-request',
        'event',
        'wait:ops-request',
        'wait:secrets',
        'restarted-by-ops',
        'verify',
        'event',
      ],
    },
    ...['Pending', 'Progressing', undefined].map((phase) => ({
      state: `ops request ${phase ?? 'without a phase'}`,
      requests: [
        opsRequest('rotate-tls', phase, {
          tls: { rotateCertificates: true },
          annotations: {
            'kubectl-singlestore.kubedb.com/rotate-from-serials':
              '{"sdb-server-cert":"0a","sdb-client-cert":"0b"}',
          },
        }),
      ],
      expect: ['say', 'wait:ops-request', 'wait:secrets', 'restarted-by-ops', 'verify', 'event'],
    })),
    {
      state: 'ops request Successful within the window',
      requests: [opsRequest('rotate-tls', 'Successful', { finished: minutesAgo(20) })],
      expect: [],
      upToDate:
        /^That rotation finished at 2026-11-29T05:40:00.000Z \(ops request sdb-rotate-tls-x1\): nothing to do/,
    },
    {
      state: 'ops request Successful, --force',
      requests: [opsRequest('rotate-tls', 'Successful', { finished: minutesAgo(20) })],
      force: true,
      expect: [
        'create-ops-request',
        'event',
        'wait:ops-request',
        'wait:secrets',
        'restarted-by-ops',
        'verify',
        'event',
      ],
    },
    {
      state: 'ops request Successful after the window',
      requests: [
        opsRequest('rotate-tls', 'Successful', { created: minutesAgo(200), finished: minutesAgo(90) }),
      ],
      expect: [
        'create-ops-request',
        'event',
        'wait:ops-request',
        'wait:secrets',
        'restarted-by-ops',
        'verify',
        'event',
      ],
    },
    {
      state: 'ops request Failed: a new one',
      requests: [opsRequest('rotate-tls', 'Failed')],
      expect: [
        'create-ops-request',
        'event',
        'wait:ops-request',
        'wait:secrets',
        'restarted-by-ops',
        'verify',
        'event',
      ],
    },
    {
      state: "another tool's Successful rotation is not ours",
      requests: [opsRequest('rotate-tls', 'Successful', { ours: false })],
      expect: [
        'create-ops-request',
        'event',
        'wait:ops-request',
        'wait:secrets',
        'restarted-by-ops',
        'verify',
        'event',
      ],
    },
  ];
  for (const { state, requests, force, expect, upToDate } of cases) {
    const plan = planRotate(snapshot({ opsRequests: requests }), { ...rotateOptions, force: force ?? false });
    assert.deepEqual(kinds(plan), expect, state);
    assert.equal(plan.method, 'ops-request', state);
    if (upToDate) assert.match(plan.upToDate ?? '', upToDate, state);
    else assert.equal(plan.upToDate, undefined, state);
  }
});

test('a re-run after Ctrl-C waits for the serials the request started from, not those read now', () => {
  const running = opsRequest('rotate-tls', 'Progressing', {
    tls: { rotateCertificates: true },
    annotations: {
      'kubectl-singlestore.kubedb.com/rotate-from-serials': '{"sdb-server-cert":"0a","sdb-client-cert":"0b"}',
    },
  });
  const plan = planRotate(snapshot({ opsRequests: [running] }), rotateOptions);
  const waits = plan.actions.filter((action) => action.kind === 'wait').map((action) => action.wait);
  assert.deepEqual(waits[0], { step: 'ops-request', name: 'sdb-rotate-tls-x1' });
  assert.deepEqual(waits[1], {
    step: 'secrets',
    names: ['sdb-server-cert', 'sdb-client-cert'],
    oldSerials: { 'sdb-server-cert': '0a', 'sdb-client-cert': '0b' },
  });
  // A new request records the serials it starts from, for the next re-run.
  const created = find(planRotate(snapshot(), rotateOptions), 'create-ops-request');
  assert.deepEqual(rotateFromSerials(created.body), { 'sdb-server-cert': 'aa01', 'sdb-client-cert': 'bb01' });
  assert.equal(created.body.metadata.generateName, 'sdb-rotate-tls-');
});

test('rotate by cert-manager: fresh, renewal under way (issued, pods not restarted), finished within and after the window', () => {
  const options = { ...rotateOptions, method: 'cert-manager' as const, restartWith: 'annotation' as const };
  const fresh = planRotate(snapshot(), options);
  assert.deepEqual(kinds(fresh), [
    'renew',
    'event',
    'wait:certificates',
    'wait:secrets',
    'restart',
    'wait:rollout',
    'verify',
    'finish-rotation',
    'event',
  ]);
  assert.deepEqual(
    find(fresh, 'renew').renewals.map((r) => [r.name, r.fromRevision, r.fromSerial, r.resumed]),
    [
      ['sdb-server-cert', 1, 'aa01', false],
      ['sdb-client-cert', 1, 'bb01', false],
    ],
  );

  // The earlier run marked both at revision 1 and cert-manager issued revision 2: nothing is renewed again.
  const marker = formatRenewalMarker({ revision: 1, at: minutesAgo(3), serial: '0a' });
  const issued = snapshot({
    certs: [
      certificate('sdb-server-cert', {
        revision: 2,
        annotations: { 'kubectl-singlestore.kubedb.com/rotate-from-revision': marker },
      }),
      certificate('sdb-client-cert', {
        revision: 1,
        issuing: true,
        annotations: { 'kubectl-singlestore.kubedb.com/rotate-from-revision': marker },
      }),
    ],
  });
  const resumed = planRotate(issued, options);
  assert.deepEqual(kinds(resumed), [
    'renew',
    'wait:certificates',
    'wait:secrets',
    'restart',
    'wait:rollout',
    'verify',
    'finish-rotation',
    'event',
  ]);
  assert.ok(find(resumed, 'renew').renewals.every((renewal) => renewal.resumed));
  const secrets = resumed.actions.find((action) => action.kind === 'wait' && action.wait.step === 'secrets');
  assert.deepEqual(secrets?.kind === 'wait' && secrets.wait, {
    step: 'secrets',
    names: ['sdb-server-cert', 'sdb-client-cert'],
    oldSerials: { 'sdb-server-cert': '0a', 'sdb-client-cert': '0a' },
  });
  // Even with the default method, an earlier cert-manager renewal is continued, not doubled by an ops request.
  assert.equal(planRotate(issued, rotateOptions).method, 'cert-manager');

  const rotated = (at: string, revision = 2) =>
    snapshot({
      certs: ['sdb-server-cert', 'sdb-client-cert'].map((name) =>
        certificate(name, {
          revision,
          annotations: { 'kubectl-singlestore.kubedb.com/rotated': formatRotatedMarker(2, new Date(at)) },
        }),
      ),
    });
  assert.match(
    planRotate(rotated(minutesAgo(30)), options).upToDate ?? '',
    /finished at .* \(cert-manager renewal\): nothing to do/,
  );
  assert.equal(planRotate(rotated(minutesAgo(90)), options).upToDate, undefined, 'after the window');
  assert.equal(planRotate(rotated(minutesAgo(30), 3), options).upToDate, undefined, 're-issued since');
  assert.equal(
    planRotate(rotated(minutesAgo(30)), { ...options, force: true }).upToDate,
    undefined,
    '--force',
  );

  // Stopped while recording its end: the server Certificate already marked "rotated", the client one
  // still with its start marker. The re-run finishes; neither is renewed a second time.
  const halfRecorded = snapshot({
    certs: [
      certificate('sdb-server-cert', {
        revision: 2,
        annotations: {
          'kubectl-singlestore.kubedb.com/rotated': formatRotatedMarker(2, new Date(minutesAgo(2))),
        },
      }),
      certificate('sdb-client-cert', {
        revision: 2,
        annotations: { 'kubectl-singlestore.kubedb.com/rotate-from-revision': marker },
      }),
    ],
  });
  const finishing = planRotate(halfRecorded, options);
  assert.deepEqual(
    find(finishing, 'renew').renewals.map((r) => [r.name, r.resumed]),
    [
      ['sdb-server-cert', true],
      ['sdb-client-cert', true],
    ],
  );
});

test('rotate by ops request: a newer Failed request is not hidden by an older Successful one', () => {
  const plan = planRotate(
    snapshot({
      opsRequests: [
        opsRequest('rotate-tls', 'Successful', { created: minutesAgo(40), finished: minutesAgo(35) }),
        opsRequest('rotate-tls', 'Failed', { created: minutesAgo(20), finished: minutesAgo(15) }),
      ],
    }),
    rotateOptions,
  );
  assert.equal(plan.upToDate, undefined);
  assert.equal(kinds(plan)[0], 'create-ops-request');
});

test('rotate: --restart-only, --stale-only, --no-restart, no wait, dry run, refusals', () => {
  assert.deepEqual(kinds(planRotate(snapshot(), { ...rotateOptions, restartOnly: true })), [
    'restart',
    'wait:rollout',
    'verify',
  ]);
  assert.deepEqual(kinds(planRotate(snapshot(), { ...rotateOptions, restartOnly: true, staleOnly: true })), [
    'restart-stale-pods',
    'wait:rollout',
    'verify',
  ]);
  const noRestart = planRotate(snapshot(), { ...rotateOptions, method: 'cert-manager', noRestart: true });
  assert.deepEqual(kinds(noRestart), [
    'renew',
    'event',
    'wait:certificates',
    'wait:secrets',
    'say',
    'verify',
    'finish-rotation',
  ]);
  assert.equal(find(noRestart, 'verify').expect, 'no-restart');
  const requested = planRotate(snapshot(), { ...rotateOptions, wait: false });
  assert.deepEqual(kinds(requested), ['create-ops-request', 'event']);
  assert.equal(requested.result, 'requested');
  assert.deepEqual(
    kinds(planRotate(snapshot(), { ...rotateOptions, method: 'cert-manager', dryRun: 'client' })),
    ['renew', 'event'],
  );

  const refusals: [ConvergeSnapshot, Partial<RotatePlanOptions>, RegExp][] = [
    [snapshot({ tls: false }), {}, /TLS is not enabled on Singlestore demo\/sdb: nothing to rotate/],
    [
      snapshot({ opsManager: false }),
      { method: 'ops-request' },
      /--method ops-request: KubeDB's ops manager is not installed/,
    ],
    [
      snapshot({ opsManager: false }),
      { restartOnly: true, restartWith: 'ops-request' },
      /--restart-with ops-request: KubeDB's ops manager/,
    ],
    [
      snapshot({
        issuer: {
          what: 'Issuer "sdb-issuer" in namespace "demo"',
          cluster: false,
          found: false,
          ready: false,
        },
      }),
      {},
      /Issuer "sdb-issuer" in namespace "demo" does not exist: cert-manager cannot issue new certificates$/,
    ],
    [
      snapshot({
        issuer: { what: 'Issuer "x"', cluster: false, found: true, ready: false, message: 'no CA' },
      }),
      {},
      /Issuer "x" is not Ready: no CA; cert-manager cannot issue new certificates, or pass --force$/,
    ],
  ];
  for (const [state, options, message] of refusals)
    assert.throws(() => planRotate(state, { ...rotateOptions, ...options }), message);
  const backingOff = certificate('sdb-server-cert');
  backingOff.status = {
    ...backingOff.status,
    lastFailureTime: minutesAgo(10),
    conditions: [{ type: 'Issuing', status: 'False', reason: 'Failed' }],
  };
  assert.throws(
    () => planRotate(snapshot({ certs: [backingOff, certificate('sdb-client-cert')] }), rotateOptions),
    /backing off after a failed issuance of Certificate sdb-server-cert .* not issue again before 2026-11-29T06:50:00.000Z/,
  );
});

test('restartDecision: pods restarted after the certificates are not restarted again (annotation and ops request)', () => {
  const issuedAt = minutesAgo(30);
  const annotation = (restartedAt?: string) =>
    restartDecision(
      { petSets: [{ name: 'sdb', petSet: petSet(restartedAt) }], requests: [], newestIssue: issuedAt },
      'annotation',
    );
  assert.deepEqual(annotation(), { restart: ['sdb'], already: [] });
  assert.deepEqual(
    annotation(minutesAgo(60)),
    { restart: ['sdb'], already: [] },
    'restarted before the issue',
  );
  assert.deepEqual(
    annotation(minutesAgo(10)),
    { restart: [], already: [{ petSet: 'sdb', at: minutesAgo(10) }] },
    'mid-rollout re-run',
  );
  const byOps = (requests: OpsRequest[]) =>
    restartDecision(
      { petSets: [{ name: 'sdb', petSet: petSet() }], requests, newestIssue: issuedAt },
      'ops-request',
    );
  assert.deepEqual(byOps([]), { restart: ['sdb'], already: [] });
  assert.equal(
    byOps([opsRequest('restart', 'Progressing', { type: 'Restart', created: minutesAgo(5) })]).continueWith,
    'sdb-restart-x1',
  );
  assert.equal(
    byOps([opsRequest('restart', 'Successful', { type: 'Restart', created: minutesAgo(5) })]).doneBy?.name,
    'sdb-restart-x1',
  );
  assert.deepEqual(
    byOps([opsRequest('restart', 'Successful', { type: 'Restart', created: minutesAgo(50) })]).restart,
    ['sdb'],
    'before the issue',
  );
});

const desired = desiredTls({
  issuer: 'sdb-issuer',
  clusterIssuer: false,
  dnsNames: [],
  ipAddresses: [],
  organizations: [],
});
const enableOptions: EnablePlanOptions = {
  desired,
  method: 'auto',
  overwrite: false,
  force: false,
  dryRun: 'none',
  wait: true,
  expected: {
    certificates: ['sdb-server-cert', 'sdb-client-cert'],
    secrets: ['sdb-server-cert', 'sdb-client-cert'],
  },
  warnWithinMs: 30 * 86_400_000,
  durationMs: 90 * 86_400_000,
  durationText: '2160h',
};

test('enable: before the write, in flight (ours or not), done, other settings, method and preflight', () => {
  const fresh = planEnable(snapshot({ tls: false }), enableOptions);
  assert.deepEqual(kinds(fresh), [
    'create-ops-request',
    'event',
    'wait:ops-request',
    'wait:certificates',
    'wait:secrets',
    'wait:rollout',
    'verify',
  ]);
  assert.match(find(fresh, 'create-ops-request').purpose, /the database is running/);
  const ours = opsRequest('enable-tls', 'Progressing', {
    annotations: {
      'kubectl-singlestore.kubedb.com/spec-hash':
        find(fresh, 'create-ops-request').body.metadata.annotations?.[
          'kubectl-singlestore.kubedb.com/spec-hash'
        ] ?? '',
    },
  });
  assert.deepEqual(
    kinds(planEnable(snapshot({ tls: false, opsRequests: [ours] }), enableOptions)).slice(0, 2),
    ['say', 'wait:ops-request'],
  );
  const theirs = opsRequest('enable-tls', 'Pending', { ours: false });
  assert.throws(
    () => planEnable(snapshot({ tls: false, opsRequests: [theirs] }), enableOptions),
    /SinglestoreOpsRequest sdb-enable-tls-x1 \(ReconfigureTLS\) for sdb is Pending: wait for it to finish/,
  );
  const done = planEnable(snapshot(), enableOptions);
  assert.equal(
    done.upToDate,
    'TLS is already enabled on Singlestore demo/sdb with Issuer "sdb-issuer": nothing to do',
  );
  assert.deepEqual(kinds(done), ['wait:certificates', 'wait:secrets', 'wait:rollout', 'verify']);
  assert.deepEqual(kinds(planEnable(snapshot(), { ...enableOptions, wait: false })), []);
  const other = {
    ...enableOptions,
    desired: { ...desired, issuerRef: { ...issuerRef, kind: 'ClusterIssuer', name: 'ca' } },
  };
  assert.throws(
    () => planEnable(snapshot(), other),
    /with other settings; pass --overwrite to reconfigure:\n- {5}kind: Issuer/,
  );
  const reconfigured = planEnable(snapshot({ opsManager: false }), { ...other, overwrite: true });
  assert.deepEqual(kinds(reconfigured), [
    'patch-tls',
    'event',
    'wait:certificates',
    'wait:secrets',
    'restart',
    'wait:rollout',
    'verify',
  ]);
  assert.match(find(reconfigured, 'patch-tls').prefix ?? '', /^reconfiguring TLS:\n/);
  assert.deepEqual(Object.keys(find(reconfigured, 'patch-tls').annotations ?? {}), [
    'kubectl-singlestore.kubedb.com/tls-reconfigured-at',
  ]);
  // An interrupted reconfiguration by patch: the marker says the pods still need their restart.
  const marked = snapshot();
  marked.db.metadata.annotations = { 'kubectl-singlestore.kubedb.com/tls-reconfigured-at': minutesAgo(5) };
  assert.ok(kinds(planEnable(marked, enableOptions)).includes('restart'));

  assert.throws(
    () => planEnable(snapshot({ tls: false, certManager: false }), enableOptions),
    /cert-manager is not installed/,
  );
  const notReady = {
    what: 'Issuer "sdb-issuer" in namespace "demo"',
    cluster: false,
    found: true,
    ready: false,
    message: 'secret "x" not found',
  };
  assert.throws(
    () => planEnable(snapshot({ tls: false, issuer: notReady }), enableOptions),
    /Issuer "sdb-issuer" in namespace "demo" is not Ready: secret "x" not found; fix it first, or pass --force$/,
  );
  assert.deepEqual(
    planEnable(snapshot({ tls: false, issuer: notReady }), { ...enableOptions, force: true }).warnings,
    [
      'WARNING: Issuer "sdb-issuer" in namespace "demo" is not Ready (secret "x" not found); going on because of --force',
    ],
  );
  assert.throws(
    () => planEnable(snapshot({ tls: false, issuer: { ...notReady, found: false } }), enableOptions),
    /does not exist: create it first \(or pass --cluster-issuer for a ClusterIssuer\)$/,
  );
  const expiring = planEnable(
    snapshot({
      tls: false,
      issuer: { ...notReady, ready: true, ca: { secret: 'demo/ca', notAfter: '2026-12-10T00:00:00.000Z' } },
    }),
    enableOptions,
  );
  assert.match(expiring.warnings[0] ?? '', /expires at 2026-12-10T00:00:00.000Z, within --warn-within/);
});

test('chooseMethod: ops request for a running database where KubeDB runs, else a patch, and why', () => {
  const running = snapshot();
  const pending = snapshot();
  pending.db.status = { phase: 'Provisioning' };
  const cases: [ConvergeSnapshot, 'auto' | 'ops-request' | 'patch', 'add' | 'remove', string, RegExp][] = [
    [running, 'auto', 'add', 'ops-request', /adds TLS to a running database/],
    [running, 'auto', 'remove', 'ops-request', /removes TLS from a running database/],
    [pending, 'auto', 'add', 'patch', /not provisioned yet \(phase Provisioning\)/],
    [
      snapshot({ opsManager: false }),
      'auto',
      'add',
      'patch',
      /ops manager is not installed, so spec.tls is patched directly/,
    ],
    [
      snapshot({ opsManager: false }),
      'auto',
      'remove',
      'patch',
      /removed directly: KubeDB's provisioner then rebuilds the PetSets/,
    ],
    [running, 'patch', 'add', 'patch', /as asked \(--method patch\)/],
    [running, 'ops-request', 'add', 'ops-request', /as asked/],
  ];
  for (const [state, method, change, use, why] of cases) {
    const chosen = chooseMethod(method, state, change);
    assert.equal(chosen.use, use, `${method} ${change}`);
    assert.match(chosen.why, why);
  }
  assert.throws(
    () => chooseMethod('ops-request', snapshot({ opsManager: false }), 'add'),
    /--method ops-request: KubeDB's ops manager is not installed/,
  );
});

test('disable: before the write (ops request or patch), in flight, done within the window, not enabled, refusals', () => {
  const options = { method: 'auto' as const, dryRun: 'none' as const, wait: true, force: false };
  const byOps = planDisable(snapshot(), options);
  assert.deepEqual(kinds(byOps), [
    'create-ops-request',
    'event',
    'say',
    'wait:ops-request',
    'wait:rollout',
    'verify',
  ]);
  assert.deepEqual(find(byOps, 'create-ops-request').body.spec.tls, { remove: true });
  assert.deepEqual(find(byOps, 'wait').wait, { step: 'ops-request' });
  assert.equal(find(byOps, 'verify').expect, 'no-tls');
  assert.match(find(byOps, 'say').text, /clients that require TLS .* will now fail to connect/);
  const byPatch = planDisable(snapshot({ opsManager: false }), options);
  assert.deepEqual(kinds(byPatch), ['patch-tls', 'event', 'say', 'wait:rollout', 'verify']);
  assert.equal(find(byPatch, 'patch-tls').tls, null);
  const rollout = byPatch.actions.find((action) => action.kind === 'wait');
  assert.deepEqual(rollout?.kind === 'wait' && rollout.wait, {
    step: 'rollout',
    petSets: ['sdb'],
    mounted: [],
    unmounted: ['sdb-server-cert', 'sdb-client-cert'],
  });
  const running = opsRequest('disable-tls', 'Progressing', { tls: { remove: true } });
  assert.deepEqual(kinds(planDisable(snapshot({ tls: false, opsRequests: [running] }), options)), [
    'say',
    'wait:ops-request',
    'wait:rollout',
    'verify',
  ]);
  const done = opsRequest('disable-tls', 'Successful', { tls: { remove: true }, finished: minutesAgo(10) });
  assert.match(
    planDisable(snapshot({ tls: false, opsRequests: [done] }), options).upToDate ?? '',
    /^TLS was turned off on Singlestore demo\/sdb at .* \(ops request sdb-disable-tls-x1\): nothing to do$/,
  );
  assert.equal(
    planDisable(snapshot({ tls: false }), { ...options, wait: false }).upToDate,
    'TLS is not enabled on Singlestore demo/sdb: nothing to do',
  );
  assert.deepEqual(kinds(planDisable(snapshot({ tls: false }), { ...options, wait: false })), []);
  assert.throws(
    () =>
      planDisable(
        snapshot({ opsRequests: [opsRequest('rotate-tls', 'Progressing', { ours: false })] }),
        options,
      ),
    /is Progressing: wait for it to finish, or delete it/,
  );
  assert.deepEqual(kinds(planDisable(snapshot(), { ...options, dryRun: 'client', wait: false })), [
    'create-ops-request',
    'event',
    'say',
  ]);
});

test('markers: the renewal marker within its hour, the rotated record at its revision', () => {
  const marker = formatRenewalMarker({ revision: 3, at: minutesAgo(10), serial: 'abc1' });
  assert.deepEqual(liveRenewalMarker(marker, now), { revision: 3, at: minutesAgo(10), serial: 'abc1' });
  assert.equal(
    liveRenewalMarker(formatRenewalMarker({ revision: 3, at: minutesAgo(61) }), now),
    undefined,
    'expired',
  );
  assert.deepEqual(liveRenewalMarker(formatRenewalMarker({ revision: 0, at: minutesAgo(1) }), now), {
    revision: 0,
    at: minutesAgo(1),
  });
  for (const bad of [undefined, '', 'x@y@z', '3@not-a-time@', '3@2026-11-29T05:00:00Z@XYZ'])
    assert.equal(liveRenewalMarker(bad, now), undefined, String(bad));
  const rotated = (revision: number, at: string) =>
    certificate('c', { revision, annotations: { 'kubectl-singlestore.kubedb.com/rotated': `2@${at}` } });
  assert.equal(recentRotation(rotated(2, minutesAgo(5)), now), minutesAgo(5));
  assert.equal(recentRotation(rotated(3, minutesAgo(5)), now), undefined);
  assert.equal(recentRotation(rotated(2, minutesAgo(65)), now), undefined);
  assert.deepEqual(
    rotateFromSerials(
      opsRequest('rotate-tls', undefined, {
        annotations: { 'kubectl-singlestore.kubedb.com/rotate-from-serials': 'not json' },
      }),
    ),
    {},
  );
});

test('tlsDiff: a line diff of spec.tls, - old and + new', () => {
  const before = desiredTls({
    issuer: 'a',
    clusterIssuer: false,
    dnsNames: ['x.example.com'],
    ipAddresses: [],
    organizations: [],
  });
  const after = desiredTls({
    issuer: 'b',
    clusterIssuer: true,
    dnsNames: [],
    ipAddresses: [],
    organizations: [],
  });
  const diff = tlsDiff(before, after).split('\n');
  assert.ok(diff.includes('-     kind: Issuer'));
  assert.ok(diff.includes('+     kind: ClusterIssuer'));
  assert.ok(diff.includes('-     name: a'));
  assert.ok(diff.includes('+     name: b'));
  assert.ok(diff.some((line) => line.startsWith('-') && line.includes('x.example.com')));
  assert.ok(diff.includes('  tls:'));
  assert.deepEqual(tlsDiff(undefined, after).split('\n')[0], '- tls: null');
});

test('wait steps: each evaluate says done, what it waits on, or the failure that ends it', () => {
  const ops = opsRequestStep('demo', 'r');
  assert.deepEqual(ops.evaluate([]), { done: false, detail: 'phase Pending' });
  assert.deepEqual(ops.evaluate([opsRequest('x', 'Successful')]), { done: true, detail: 'Successful' });
  const failed = opsRequest('x', 'Failed');
  failed.status?.conditions?.push({ type: 'Failed', status: 'True', message: 'Issuer is not ready' });
  assert.equal(ops.evaluate([failed]).failure, 'the ops request is Failed: Issuer is not ready');

  const certs = certificatesStep('demo', ['c'], new Map([['c', 1]]));
  assert.equal(certs.evaluate([]).detail, '0/1 ready; c not created yet');
  assert.equal(certs.evaluate([certificate('c', { revision: 1 })]).done, false, 'not re-issued yet');
  assert.equal(
    certs.evaluate([certificate('c', { revision: 2, issuing: true })]).done,
    false,
    'still issuing',
  );
  assert.equal(certs.evaluate([certificate('c', { revision: 2 })]).done, true);
  const broken = certificate('c', { revision: 1 });
  broken.status = {
    ...broken.status,
    lastFailureTime: minutesAgo(1),
    conditions: [{ type: 'Issuing', status: 'False', reason: 'Failed', message: 'denied' }],
  };
  assert.equal(certs.evaluate([broken]).failure, 'certificate c: denied');

  const ca = forgeCertificate({
    commonName: 'ca',
    isCA: true,
    notBefore: new Date(minutesAgo(600)),
    notAfter: new Date('2030-01-01'),
  });
  const leaf = forgeCertificate({
    commonName: 'sdb',
    issuer: ca,
    notBefore: new Date(minutesAgo(60)),
    notAfter: new Date('2029-01-01'),
  });
  const secret = (name: string, data: Record<string, string>): Secret => ({
    metadata: { name },
    type: 'kubernetes.io/tls',
    data: Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
  });
  const good = secret('s', { 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': ca.pem });
  const serial = new X509Certificate(leaf.pem).serialNumber.toLowerCase();
  assert.deepEqual(secretsStep('demo', ['s']).evaluate([good]), { done: true, detail: '1 Secret(s) valid' });
  assert.equal(secretsStep('demo', ['s']).evaluate([]).detail, 's missing');
  assert.equal(
    secretsStep('demo', ['s'], new Map([['s', serial]])).evaluate([good]).detail,
    's still holds the old certificate',
  );
  const wrongKey = secret('s', { 'tls.crt': leaf.pem, 'tls.key': ca.keyPem, 'ca.crt': ca.pem });
  assert.match(secretsStep('demo', ['s']).evaluate([wrongKey]).detail, /^s: ca.crt signed, key /);

  const rolled = (fields: Partial<PetSet['status']>, volumes: string[] = []): PetSet => ({
    metadata: { name: 'sdb', generation: 2 },
    spec: {
      replicas: 2,
      template: { spec: { volumes: volumes.map((name) => ({ name, secret: { secretName: name } })) } },
    },
    status: { observedGeneration: 2, updatedReplicas: 2, readyReplicas: 2, ...fields },
  });
  assert.equal(rolloutStep('demo', ['sdb'], ['s']).evaluate([rolled({}, ['s'])]).done, true);
  assert.equal(rolloutStep('demo', ['sdb'], ['s']).evaluate([rolled({})]).detail, 'sdb does not mount s yet');
  assert.equal(
    rolloutStep('demo', ['sdb'], [], ['s']).evaluate([rolled({}, ['s'])]).detail,
    'sdb still mounts s',
  );
  assert.equal(rolloutStep('demo', ['sdb'], [], ['s']).evaluate([rolled({})]).done, true);
  assert.equal(
    rolloutStep('demo', ['sdb']).evaluate([rolled({ readyReplicas: 1 })]).detail,
    'sdb 2/2 updated, 1 ready',
  );
  assert.equal(rolloutStep('demo', ['sdb']).evaluate([]).detail, 'sdb missing');

  const replaced = podReplacedStep('demo', 'sdb-0', 'old');
  assert.equal(replaced.evaluate([{ metadata: { name: 'sdb-0', uid: 'old' } }]).done, false);
  assert.equal(
    replaced.evaluate([
      {
        metadata: { name: 'sdb-0', uid: 'new' },
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      },
    ]).done,
    true,
  );
});

test('the audit Event: events.k8s.io/v1 with the reason, the reporting controller and the user', () => {
  const db: Singlestore = { metadata: { name: 'sdb', namespace: 'demo', uid: 'u-1' } };
  const event = auditEvent(db, {
    reason: 'TLSDisabled',
    note: 'TLS turned off',
    user: 'alice',
    at: now,
    opsRequest: 'r1',
  }) as unknown as Record<string, unknown>;
  assert.equal(event.apiVersion, 'events.k8s.io/v1');
  assert.equal(event.reason, 'TLSDisabled');
  assert.equal(event.action, 'DisableTLS');
  assert.equal(event.reportingController, 'kubectl-singlestore');
  // The API server takes a generateName that ends with a dash, not with a dot.
  assert.equal((event.metadata as { generateName: string }).generateName, 'sdb.tls-');
  assert.equal(event.eventTime, '2026-11-29T06:00:00.000000Z');
  assert.equal(event.note, 'TLS turned off by alice (SinglestoreOpsRequest r1)');
  assert.deepEqual(event.regarding, {
    apiVersion: 'kubedb.com/v1alpha2',
    kind: 'Singlestore',
    namespace: 'demo',
    name: 'sdb',
    uid: 'u-1',
  });
});

test('the -o json results of rotate follow their published schema', () => {
  const schema = JSON.parse(
    readFileSync(new URL('../../src/tls/converge/rotate-result.schema.json', import.meta.url), 'utf8'),
  );
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const result = {
    apiVersion: 'singlestore.tls.kubedb.com/v1',
    kind: 'TLSRotateResult',
    results: [
      {
        namespace: 'demo',
        name: 'sdb',
        result: 'rotated',
        method: 'ops-request',
        opsRequest: 'sdb-rotate-tls-x',
        certificates: [{ name: 'sdb-server-cert', oldSerial: 'aa', newSerial: 'bb' }],
        restarted: ['sdb'],
        served: [{ pod: 'sdb-0', served: 'current', serial: 'bb' }],
        elapsedSeconds: 12.5,
        health: 'OK',
        exitCode: 0,
      },
      {
        namespace: 'demo',
        name: 'old',
        result: 'up-to-date',
        method: 'cert-manager',
        certificates: [],
        restarted: [],
        elapsedSeconds: 0.2,
        exitCode: 0,
      },
      {
        namespace: 'demo',
        name: 'bad',
        result: 'failed',
        method: '',
        certificates: [],
        restarted: [],
        elapsedSeconds: 0.1,
        error: 'boom',
        exitCode: 3,
      },
    ],
  };
  assert.ok(validate(result), JSON.stringify(validate.errors));
  assert.ok(!validate({ ...result, results: [{ ...result.results[0], result: 'maybe' }] }));
});

test('the -o json|yaml objects of enable and disable follow their published schema', () => {
  const schema = JSON.parse(
    readFileSync(new URL('../../src/tls/converge/written-object.schema.json', import.meta.url), 'utf8'),
  );
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const objects = [
    find(planEnable(snapshot({ tls: false }), enableOptions), 'create-ops-request').body,
    find(
      planDisable(snapshot(), { method: 'auto', dryRun: 'none', wait: false, force: false }),
      'create-ops-request',
    ).body,
    { metadata: { resourceVersion: '7' }, spec: { tls: null } },
    {
      apiVersion: 'kubedb.com/v1alpha2',
      kind: 'Singlestore',
      metadata: { name: 'sdb' },
      spec: { tls: { issuerRef } },
    },
  ];
  for (const object of objects) assert.ok(validate(object), JSON.stringify(validate.errors));
  assert.ok(!validate({ apiVersion: 'v1', kind: 'Secret', metadata: {}, spec: {} }));
});

/** A KubeClient that answers from memory and records what was written (only what the executor calls). */
function fakeClient(
  objects: { db: Singlestore; certificates?: Certificate[] },
  failures: { conflicts?: number } = {},
) {
  const writes: { verb: string; kind: string; name?: string; body: unknown; dryRun?: string }[] = [];
  let conflicts = failures.conflicts ?? 0;
  const fake = {
    writes,
    async find(type: { kind: string }, _namespace: string, name: string) {
      if (type.kind === 'Singlestore') return structuredClone(objects.db);
      return objects.certificates?.find((item) => item.metadata.name === name);
    },
    async get(type: { kind: string }, namespace: string, name: string) {
      return fake.find(type, namespace, name);
    },
    async create(
      type: { kind: string },
      _namespace: string,
      body: { metadata: { generateName?: string } },
      dryRun: string,
    ) {
      writes.push({ verb: 'create', kind: type.kind, body, dryRun });
      return { ...body, metadata: { ...body.metadata, name: `${body.metadata.generateName}abcde` } };
    },
    async patch(
      type: { kind: string },
      { name }: { name: string },
      body: unknown,
      options: { dryRun?: string } = {},
    ) {
      if (conflicts > 0) {
        conflicts--;
        throw new ApiError(
          `Operation cannot be fulfilled on ${name}: the object has been modified`,
          409,
          'Conflict',
        );
      }
      writes.push({
        verb: 'patch',
        kind: type.kind,
        name,
        body,
        ...(options.dryRun ? { dryRun: options.dryRun } : {}),
      });
      return { metadata: { name, resourceVersion: '99' }, status: {} };
    },
  };
  return fake;
}

function settingsFor(client: ReturnType<typeof fakeClient>, dryRun: 'none' | 'client' | 'server' = 'none') {
  const lines: string[] = [];
  const warnings: string[] = [];
  const events: string[] = [];
  const settings: ExecuteSettings = {
    client: client as unknown as KubeClient,
    dryRun,
    log: (line) => lines.push(line),
    warn: (line) => warnings.push(line),
    conflictNotice: (line) => warnings.push(line),
    showObjects: true,
    wait: {
      client: client as unknown as KubeClient,
      progress: createProgress('plain', () => {}),
      interrupt: new AbortController().signal,
      ...deadlineFrom(1000),
    },
    now: () => now,
    commandName: 'kubectl singlestore',
    verifyOut: () => {},
    audit: { record: async (_db, event) => void events.push(`${event.reason}: ${event.note}`) },
  };
  return { settings, lines, warnings, events };
}

test('executor: --dry-run=client prints the plan and the object, sends nothing, records no Event', async () => {
  const state = snapshot({ tls: false });
  const client = fakeClient({ db: state.db });
  const { settings, lines, events } = settingsFor(client, 'client');
  const record = await executePlan(
    planEnable(state, { ...enableOptions, dryRun: 'client', wait: false }),
    state,
    settings,
  );
  assert.deepEqual(client.writes, []);
  assert.deepEqual(events, []);
  assert.equal(record.result, 'dry-run');
  assert.match(
    lines[0] ?? '',
    /^would create a SinglestoreOpsRequest \(ReconfigureTLS\) for demo\/sdb \(dry run\) to enable TLS with Issuer "sdb-issuer"/,
  );
  assert.match(lines[1] ?? '', /^apiVersion: ops.kubedb.com\/v1alpha1\nkind: SinglestoreOpsRequest\n/);
});

test('executor: a conflict on the spec.tls patch is retried on a fresh read, never a lost update', async () => {
  const state = snapshot({ tls: false, opsManager: false });
  const client = fakeClient({ db: state.db }, { conflicts: 1 });
  const { settings, lines, warnings, events } = settingsFor(client);
  const record = await executePlan(planEnable(state, { ...enableOptions, wait: false }), state, settings);
  assert.deepEqual(warnings, [
    'Singlestore demo/sdb changed while patching (conflict); retrying on a fresh read',
  ]);
  assert.equal(client.writes.length, 1);
  const [write] = client.writes;
  assert.deepEqual(
    (write?.body as { metadata: object }).metadata,
    { resourceVersion: '7' },
    'guarded by the fresh read',
  );
  assert.match(
    lines[0] ?? '',
    /^patched spec.tls of Singlestore demo\/sdb to enable TLS with Issuer "sdb-issuer"/,
  );
  assert.deepEqual(events, ['TLSEnabled: TLS enabled with Issuer "sdb-issuer"']);
  assert.equal(record.result, 'requested');
  // Another writer turned TLS on with other settings meanwhile: refused without --overwrite.
  const other = snapshot({ tls: false, opsManager: false });
  const racing = fakeClient({ db: snapshot().db }, { conflicts: 1 });
  racing.writes.length = 0;
  const raced = { ...enableOptions, wait: false, desired: { issuerRef: { ...issuerRef, name: 'another' } } };
  await assert.rejects(
    executePlan(planEnable(other, raced), other, settingsFor(racing).settings),
    /by someone else meanwhile/,
  );
});

test('executor: renewals mark and trigger each Certificate; the restart stamps the injected clock', async () => {
  const state = snapshot();
  const client = fakeClient({
    db: state.db,
    certificates: state.certificates.flatMap((entry) => (entry.certificate ? [entry.certificate] : [])),
  });
  const { settings, lines } = settingsFor(client);
  const plan = planRotate(state, { ...rotateOptions, method: 'cert-manager', wait: false });
  await executePlan(plan, state, settings);
  const marker = `1@${now.toISOString()}@aa01`;
  assert.deepEqual(
    client.writes.filter((w) => w.kind === 'Certificate').map((w) => w.name),
    ['sdb-server-cert', 'sdb-server-cert', 'sdb-client-cert', 'sdb-client-cert'],
  );
  assert.deepEqual((client.writes[0]?.body as { metadata: unknown }).metadata, {
    resourceVersion: '10',
    annotations: { 'kubectl-singlestore.kubedb.com/rotate-from-revision': marker },
  });
  assert.ok(
    lines.every((line) =>
      /^renewal of Certificate demo\/sdb-\w+-cert requested \(Issuing=True, ManuallyTriggered\)$/.test(line),
    ),
  );

  const restart = fakeClient({ db: state.db });
  const restarted = settingsFor(restart);
  await executePlan(
    planRotate(state, { ...rotateOptions, restartOnly: true, restartWith: 'annotation', wait: false }),
    state,
    restarted.settings,
  );
  assert.deepEqual(restarted.lines, [
    'restarted PetSet demo/sdb (kubectl.kubernetes.io/restartedAt=2026-11-29T06:00:00Z)',
  ]);
});
