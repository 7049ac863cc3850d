/**
 * docs/cronjob.yaml's check, run as its Job would run it: the binary with no kubeconfig, the
 * service-account token, ca.crt and namespace at their real path (a tmpfs over /run in a mount
 * namespace of its own, so the host is untouched; needs root) and KUBERNETES_SERVICE_HOST/PORT, bound
 * to the kubectl-singlestore-status role only. An unhealthy database fails the Job (exit 1).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import type { StatusReport } from '../../src/tls/report.ts';
import {
  binary,
  clusterDir,
  clusterEnv,
  kubectl,
  kubectlApply,
  type Result,
  repoRoot,
  runPlugin,
  singlestoreYaml,
  skipReason,
} from './harness.ts';

const ns = 'incluster-e2e';
const saDir = '/var/run/secrets/kubernetes.io/serviceaccount';
const isRoot = process.getuid?.() === 0;
const files = mkdtempSync(path.join(os.tmpdir(), 'in-cluster-'));

/** The plugin as a Job's container runs it: only the in-cluster environment. */
function runInCluster(args: string[]): Promise<Result> {
  const server = new URL(clusterEnv().SERVER ?? '');
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    `mkdir -p ${saDir}`,
    `cp "$FILES/token" "$FILES/ca.crt" "$FILES/namespace" ${saDir}/`,
    'exec "$@"',
  ].join('\n');
  return runPlugin(['-m', 'sh', '-c', script, 'sh', binary, ...args], {
    program: 'unshare',
    env: {
      KUBECONFIG: undefined,
      HOME: files,
      FILES: files,
      KUBERNETES_SERVICE_HOST: server.hostname,
      KUBERNETES_SERVICE_PORT: server.port,
    },
  });
}

describe(
  'the scheduled check, in-cluster',
  { skip: skipReason ?? (isRoot ? undefined : 'needs root for unshare -m') },
  () => {
    before(() => {
      kubectlApply(readFileSync(path.join(repoRoot, 'docs', 'rbac.yaml'), 'utf8'));
      kubectlApply(
        [
          `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}`,
          `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: tls-check, namespace: ${ns}}`,
          `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: incluster-e2e-tls-check}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-singlestore-status}\nsubjects: [{kind: ServiceAccount, name: tls-check, namespace: ${ns}}]`,
          // An Issuer that does not exist: critical, so the Job must fail.
          singlestoreYaml('no-issuer', ns, { issuer: 'ghost-issuer' }),
        ].join('\n---\n'),
      );
      writeFileSync(path.join(files, 'token'), kubectl(['create', 'token', 'tls-check', '-n', ns]).trim());
      writeFileSync(path.join(files, 'ca.crt'), readFileSync(path.join(clusterDir, 'pki', 'apiserver.crt')));
      writeFileSync(path.join(files, 'namespace'), ns);
    });

    after(() => {
      kubectl(['delete', 'clusterrolebinding', 'incluster-e2e-tls-check', '--ignore-not-found']);
      kubectl(['delete', 'namespace', ns, '--wait=false']);
      rmSync(files, { recursive: true, force: true });
    });

    test('tls status -A -o json with the status role: the report, and exit 1 for an unhealthy database', async () => {
      const result = await runInCluster(['tls', 'status', '-A', '-o', 'json']);
      assert.equal(result.code, ExitCode.findings, result.stderr);
      const report = JSON.parse(result.stdout) as StatusReport;
      const db = report.databases.find((d) => d.namespace === ns && d.name === 'no-issuer');
      assert.equal(db?.health, 'CRITICAL');
      assert.equal(db?.findings[0]?.step, 'issuer');
    });

    test('the pod sees itself: context shows the in-cluster service account and namespace', async () => {
      const result = await runInCluster(['context']);
      assert.equal(result.code, ExitCode.ok, result.stderr);
      assert.match(result.stdout, /in-cluster/);
      assert.match(result.stdout, new RegExp(`system:serviceaccount:${ns}:tls-check`));
    });
  },
);
