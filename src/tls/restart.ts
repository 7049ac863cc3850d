/** Rolling a database's pods so they load the certificates in its Secrets: shared by rotate and enable. */
import type { DryRun, KubeClient } from '../kube/client.ts';
import { Resources } from '../kube/resources.ts';
import type { OpsRequest, PetSet, Secret, Singlestore } from '../kubedb/types.ts';
import { opsRequestBody, ownRequest } from './ops-requests.ts';
import { decodeTls, opsRequestStep, type WaitContext, waitFor } from './wait.ts';
import { inspectTlsData } from './x509.ts';

const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';

/** When the newest certificate in these Secrets was issued (its notBefore). */
export async function newestIssue(
  client: KubeClient,
  namespace: string,
  secretNames: string[],
): Promise<string> {
  const secrets = await Promise.all(
    secretNames.map((secret) => client.find<Secret>(Resources.secret, namespace, secret)),
  );
  return (
    secrets
      .map((secret) => (secret ? inspectTlsData(decodeTls(secret)).certificate?.notBefore : undefined))
      .filter((value): value is string => Boolean(value))
      .sort()
      .at(-1) ?? new Date(0).toISOString()
  );
}

/**
 * Restart the PetSets the KubeDB way the cluster supports: a Restart ops request where KubeDB's ops
 * manager runs, else kubectl's restartedAt annotation on the pod template. A restart newer than the
 * certificates (from an interrupted run) is not repeated.
 */
export async function restartPetSets(
  client: KubeClient,
  db: Singlestore,
  petSets: string[],
  newestIssued: string,
  useOpsRequest: boolean,
  dryRun: DryRun,
  log: (line: string) => void,
  context: WaitContext,
  wait: boolean,
): Promise<string[]> {
  const namespace = db.metadata.namespace as string;
  const name = db.metadata.name;
  const dry = dryRun === 'none' ? '' : ' (dry run)';
  if (useOpsRequest) {
    const running = await ownRequest(
      client,
      namespace,
      name,
      'restart',
      (request) => request.spec.type === 'Restart',
    );
    let requestName = running?.metadata.name;
    if (running) log(`continuing with Restart request ${requestName} from an earlier run`);
    else if (dryRun === 'client') {
      log(`would create a SinglestoreOpsRequest (Restart)${dry}`);
      return petSets;
    } else {
      const created = await client.create<OpsRequest>(
        Resources.opsRequest,
        namespace,
        opsRequestBody(db, 'restart', { type: 'Restart', databaseRef: { name }, restart: {} }),
        dryRun,
      );
      requestName = created.metadata.name;
      log(`created SinglestoreOpsRequest ${namespace}/${requestName} (Restart)${dry}`);
    }
    if (dryRun === 'none' && wait) await waitFor(context, opsRequestStep(namespace, requestName as string));
    return petSets;
  }
  const restarted: string[] = [];
  for (const petSetName of petSets) {
    const petSet = await client.find<PetSet>(Resources.petset, namespace, petSetName);
    if (!petSet) continue;
    const previous = petSet.spec.template.metadata?.annotations?.[restartedAtAnnotation];
    if (previous && Date.parse(previous) >= Date.parse(newestIssued)) {
      log(`PetSet ${petSetName} was already restarted at ${previous}, after the certificates were issued`);
      restarted.push(petSetName);
      continue;
    }
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (dryRun === 'client') {
      log(`would restart PetSet ${namespace}/${petSetName} (${restartedAtAnnotation}=${at})${dry}`);
    } else {
      await client.patch(
        Resources.petset,
        namespace,
        petSetName,
        { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: at } } } } },
        { dryRun },
      );
      log(`restarted PetSet ${namespace}/${petSetName} (${restartedAtAnnotation}=${at})${dry}`);
    }
    restarted.push(petSetName);
  }
  return restarted;
}
