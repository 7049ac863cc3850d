/**
 * TEST-ONLY stand-in for KubeDB's ops manager: carries out SinglestoreOpsRequests the way KubeDB
 * does (the real one is licensed and not available here) and moves their phase
 * Pending -> Progressing -> Successful, or Failed with a reason.
 *   ReconfigureTLS with issuerRef/certificates: set spec.tls, wait for the Certificates, restart pods.
 *   ReconfigureTLS with rotateCertificates: renew every Certificate (Issuing=True), wait, restart pods.
 *   ReconfigureTLS with remove: drop spec.tls (the provisioner removes the Certificates), restart pods.
 *   Restart: restart every PetSet of the database and wait for the rollout.
 * While a ReconfigureTLS request is Progressing the provisioner leaves the PetSets alone and the restart
 * step writes their new template with the restart (one rollout). A test can hold a database's requests
 * in a phase (holds.ts).
 */
import type { KubeClient } from '../../src/kube/client.ts';
import { type Condition, findCondition } from '../../src/kube/objects.ts';
import { Resources } from '../../src/kube/resources.ts';
import { rolledOut } from '../../src/kubedb/petset.ts';
import type { Certificate, Issuer, OpsRequest, PetSet, Singlestore } from '../../src/kubedb/types.ts';
import { heldOpsPhase } from './holds.ts';
import { desiredCertificates, desiredPetSets, petSetsOf } from './provisioner.ts';

const pollMs = 250;
/** How often a held request looks whether it was released. */
const heldMs = 500;
const terminal = new Set(['Successful', 'Failed', 'Skipped', 'Denied']);

type Stage = 'configure' | 'certificates' | 'restart' | 'rollout';

/** Progress per request; the stand-in is not restarted during a test, so memory is enough. */
interface Progress {
  stage: Stage;
  startRevisions: Map<string, number>;
  restartedAt?: string;
}

const progress = new Map<string, Progress>();

export async function reconcileOpsRequest(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<number | undefined> {
  const request = await client.find<OpsRequest>(Resources.opsRequest, namespace, name);
  if (!request || terminal.has(request.status?.phase ?? '')) return undefined;
  const key = `${namespace}/${name}`;
  const db = await client.find<Singlestore>(Resources.singlestore, namespace, request.spec.databaseRef.name);
  // A test holding this database's requests in a phase (holds.ts): they go no further until released.
  const hold = heldOpsPhase(db?.metadata.annotations);
  if (!request.status?.phase) {
    await setPhase(client, request, 'Pending', 'OpsRequestPending', 'waiting for the stand-in ops manager');
    return 50;
  }
  if (request.status.phase === 'Pending') {
    if (hold === 'Pending') return heldMs;
    await setPhase(client, request, 'Progressing', 'Progressing', `${request.spec.type} in progress`);
  }
  if (!db) return fail(client, request, `database "${request.spec.databaseRef.name}" not found`);
  if (hold) return heldMs;
  let state = progress.get(key);
  if (!state) {
    state = { stage: request.spec.type === 'Restart' ? 'restart' : 'configure', startRevisions: new Map() };
    progress.set(key, state);
  }
  const outcome = await step(client, request, db, state);
  if (outcome === 'done') {
    progress.delete(key);
    await setPhase(client, request, 'Successful', 'Successful', `${request.spec.type} completed`);
    return undefined;
  }
  if (typeof outcome === 'object') {
    progress.delete(key);
    return fail(client, request, outcome.failed);
  }
  return pollMs;
}

async function step(
  client: KubeClient,
  request: OpsRequest,
  db: Singlestore,
  state: Progress,
): Promise<'done' | 'wait' | { failed: string }> {
  const { namespace, name } = db.metadata;
  const tls = request.spec.tls ?? {};
  switch (state.stage) {
    case 'configure': {
      if (request.spec.type !== 'ReconfigureTLS') return { failed: `unsupported type ${request.spec.type}` };
      if (tls.remove) {
        await client.patch(Resources.singlestore, { namespace, name }, { spec: { tls: null } });
        state.stage = 'restart';
        return 'wait';
      }
      if (tls.rotateCertificates) {
        if (!db.spec?.tls?.issuerRef) return { failed: 'TLS is not enabled on the database' };
        for (const certificate of await certificatesOf(client, db)) {
          state.startRevisions.set(certificate.metadata.name, certificate.status?.revision ?? 0);
          await client.patch(
            Resources.certificate,
            { namespace, name: certificate.metadata.name },
            { status: { conditions: renewConditions(certificate) } },
            { subresource: 'status' },
          );
        }
        state.stage = 'certificates';
        return 'wait';
      }
      if (!tls.issuerRef) return { failed: 'spec.tls needs issuerRef, rotateCertificates or remove' };
      const issuerProblem = await checkIssuer(client, namespace as string, tls.issuerRef);
      if (issuerProblem) return { failed: issuerProblem };
      for (const certificate of await certificatesOf(client, db)) {
        state.startRevisions.set(certificate.metadata.name, certificate.status?.revision ?? 0);
      }
      await client.patch(
        Resources.singlestore,
        { namespace, name },
        {
          spec: { tls: { issuerRef: tls.issuerRef, certificates: tls.certificates ?? null } },
        },
      );
      state.stage = 'certificates';
      return 'wait';
    }
    case 'certificates': {
      const wanted = desiredCertificates(
        (await client.find<Singlestore>(Resources.singlestore, namespace, name)) ?? db,
      );
      for (const want of wanted) {
        const certificate = await client.find<Certificate>(
          Resources.certificate,
          namespace,
          want.metadata.name,
        );
        if (!certificate) return 'wait';
        const issuing = findCondition(certificate.status?.conditions, 'Issuing');
        if (issuing?.status === 'False' && issuing.reason === 'Failed') {
          return { failed: `certificate ${want.metadata.name}: ${issuing.message ?? 'issuance failed'}` };
        }
        const ready = findCondition(certificate.status?.conditions, 'Ready')?.status === 'True';
        const revision = certificate.status?.revision ?? 0;
        const before = state.startRevisions.get(want.metadata.name) ?? 0;
        const reissued = revision > before || (before === 0 && revision >= 1);
        if (!ready || !reissued || issuing?.status === 'True') return 'wait';
      }
      state.stage = 'restart';
      return 'wait';
    }
    case 'restart': {
      state.restartedAt = new Date().toISOString();
      // ReconfigureTLS: the ops manager itself brings the PetSets to the new spec.tls (the provisioner
      // leaves them alone meanwhile, see provisioner.ts) in the same write as the restart, so the pods
      // roll once, as with KubeDB.
      const reconfigured =
        request.spec.type === 'ReconfigureTLS'
          ? await client.find<Singlestore>(Resources.singlestore, namespace, name)
          : undefined;
      const templates = new Map(
        (reconfigured ? desiredPetSets(reconfigured) : []).map((petSet) => [
          petSet.metadata.name,
          petSet.spec.template,
        ]),
      );
      for (const { name: petSet } of petSetsOf(db)) {
        const template = templates.get(petSet);
        const restartedAt = { 'kubedb.com/restartedAt': state.restartedAt };
        const patch = {
          spec: {
            template: {
              ...template,
              metadata: { ...template?.metadata, annotations: restartedAt },
            },
          },
        };
        await client.patch(Resources.petset, { namespace, name: petSet }, patch).catch(() => undefined);
      }
      state.stage = 'rollout';
      return 'wait';
    }
    case 'rollout': {
      for (const { name: petSetName } of petSetsOf(db)) {
        const petSet = await client.find<PetSet>(Resources.petset, namespace, petSetName);
        if (!petSet) continue;
        if (!rolledOut(petSet)) return 'wait';
      }
      return 'done';
    }
  }
}

async function certificatesOf(client: KubeClient, db: Singlestore): Promise<Certificate[]> {
  const found: Certificate[] = [];
  for (const want of desiredCertificates(db)) {
    const certificate = await client.find<Certificate>(
      Resources.certificate,
      db.metadata.namespace,
      want.metadata.name,
    );
    if (certificate) found.push(certificate);
  }
  return found;
}

async function checkIssuer(
  client: KubeClient,
  namespace: string,
  ref: { name: string; kind?: string },
): Promise<string | undefined> {
  const cluster = ref.kind === 'ClusterIssuer';
  const issuer = await client.find<Issuer>(
    cluster ? Resources.clusterIssuer : Resources.issuer,
    cluster ? undefined : namespace,
    ref.name,
  );
  if (!issuer) return `${cluster ? 'ClusterIssuer' : 'Issuer'} "${ref.name}" not found`;
  const ready = findCondition(issuer.status?.conditions, 'Ready');
  if (ready?.status !== 'True')
    return `${cluster ? 'ClusterIssuer' : 'Issuer'} "${ref.name}" is not ready: ${ready?.message ?? 'no Ready condition'}`;
  return undefined;
}

/** What `cmctl renew` does: Issuing=True, reason ManuallyTriggered. */
function renewConditions(certificate: Certificate): Condition[] {
  const others = (certificate.status?.conditions ?? []).filter((condition) => condition.type !== 'Issuing');
  return [
    ...others,
    {
      type: 'Issuing',
      status: 'True',
      reason: 'ManuallyTriggered',
      message: 'Certificate re-issuance manually triggered',
      lastTransitionTime: new Date().toISOString(),
    },
  ];
}

async function setPhase(
  client: KubeClient,
  request: OpsRequest,
  phase: string,
  reason: string,
  message: string,
): Promise<void> {
  const now = new Date().toISOString();
  const conditions = [
    ...(request.status?.conditions ?? []),
    { type: phase, status: 'True', reason, message, lastTransitionTime: now },
  ];
  await client.patch(
    Resources.opsRequest,
    { namespace: request.metadata.namespace, name: request.metadata.name },
    { status: { phase, observedGeneration: request.metadata.generation, conditions } },
    { subresource: 'status' },
  );
  request.status = { ...request.status, phase, conditions };
}

async function fail(client: KubeClient, request: OpsRequest, reason: string): Promise<undefined> {
  await setPhase(client, request, 'Failed', 'Failed', reason);
  return undefined;
}
