/**
 * The one executor of enable, rotate and disable plans: it writes (or, with --dry-run=client, prints
 * what it would write; with --dry-run=server sends it with dryRun=All), retries a write that lost a
 * race on a fresh read, follows the waits, runs the final check, records the audit Events, and
 * fills the per-database result record. The converge sequence (ops request -> Certificates ->
 * Secrets -> restart -> rollout -> verify) is the same for every operation; only the plan differs.
 */
import yaml from 'js-yaml';
import { ApiError, CliError, ExitCode } from '../../errors.ts';
import { type DryRun, dryRunNote, type KubeClient } from '../../kube/client.ts';
import type { Writer } from '../../kube/request-log.ts';
import { Resources } from '../../kube/resources.ts';
import type { Certificate, OpsRequest, Singlestore } from '../../kubedb/types.ts';
import { restartStalePods } from '../restart.ts';
import { sameTls } from '../spec.ts';
import { podsOf, verifyDatabase, verifyPlain } from '../verify.ts';
import {
  certificateStatusStep,
  certificatesStep,
  decodeTls,
  opsRequestStep,
  rolloutStep,
  secretsStep,
  type WaitContext,
  waitFor,
} from '../wait.ts';
import { inspectTlsData } from '../x509.ts';
import type { Auditor } from './audit.ts';
import { getDatabase } from './gather.ts';
import {
  formatRenewalMarker,
  formatRotatedMarker,
  rotatedAnnotation,
  rotateFromAnnotation,
} from './markers.ts';
import type { Action, ConvergeRecord, ConvergeSnapshot, Plan, Renewal, WaitSpec } from './model.ts';
import {
  issuerText,
  newestIssue,
  opsRequestBody,
  refuse,
  renewalFor,
  restartDecision,
  tlsPatch,
} from './plan.ts';

export interface ExecuteSettings {
  client: KubeClient;
  dryRun: DryRun;
  /** Progress and outcome lines. */
  log: (line: string) => void;
  /** Warnings, and the conflict retries of a patch of spec.tls. */
  warn: (line: string) => void;
  /** Where a lost race on a Certificate marker is told (rotate's log). */
  conflictNotice: (line: string) => void;
  /** -o: the written object goes here, and the lines to `warn`. */
  render?: (object: object) => void;
  /** With --dry-run=client and no -o: the object follows its line, as YAML. */
  showObjects: boolean;
  wait: WaitContext;
  now: () => Date;
  commandName: string;
  probe?: { timeoutMs: number };
  /** Where the final check prints its verdict. */
  verifyOut: Writer;
  audit: Auditor;
}

const maxConflictRetries = 5;
const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';

/** Run `attempt` again on a fresh read after a 409 Conflict, up to five times: never a lost update. */
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  onConflict: () => Promise<void>,
): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ApiError && error.isConflict) || tries >= maxConflictRetries) throw error;
      await onConflict();
    }
  }
}

export async function executePlan(
  plan: Plan,
  snapshot: ConvergeSnapshot,
  settings: ExecuteSettings,
): Promise<ConvergeRecord> {
  const run = new Execution(plan, snapshot, settings);
  for (const warning of plan.warnings) settings.warn(warning);
  if (plan.upToDate) run.say(plan.upToDate);
  for (const action of plan.actions) {
    if (settings.wait.interrupt.aborted) break;
    await run.carryOut(action);
  }
  const { record } = run;
  record.result = plan.upToDate ? 'up-to-date' : settings.dryRun !== 'none' ? 'dry-run' : plan.result;
  return record;
}

class Execution {
  readonly record: ConvergeRecord;
  private created?: string;
  /** The newest certificate's notBefore once the Secrets were read after a re-issue. */
  private newest?: string;
  private readonly dry: string;

  constructor(
    private readonly plan: Plan,
    private readonly snapshot: ConvergeSnapshot,
    private readonly settings: ExecuteSettings,
  ) {
    this.dry = dryRunNote(settings.dryRun);
    this.record = {
      namespace: plan.namespace,
      name: plan.name,
      result: 'failed',
      method: plan.method,
      certificates: snapshot.certificates.map((entry) => ({
        name: entry.name,
        ...(entry.issued ? { oldSerial: entry.issued.serial, oldNotAfter: entry.issued.notAfter } : {}),
      })),
      restarted: [],
      elapsedSeconds: 0,
      exitCode: ExitCode.ok,
    };
  }

  say(line: string): void {
    (this.settings.render ? this.settings.warn : this.settings.log)(line);
  }

  /** A written (or would-be) object: rendered with -o, else its line (and with --dry-run=client its YAML). */
  private announce(line: string, object: object): void {
    this.say(line);
    if (this.settings.render) this.settings.render(object);
    else if (this.settings.showObjects && this.settings.dryRun === 'client')
      this.settings.log(yaml.dump(object).trimEnd());
  }

  async carryOut(action: Action): Promise<void> {
    const live = this.settings.dryRun === 'none';
    switch (action.kind) {
      case 'say':
        if (!action.unlessDryRun || live) this.say(action.text);
        return;
      case 'create-ops-request':
        return this.createOpsRequest(action);
      case 'patch-tls':
        return this.patchTls(action);
      case 'renew':
        return this.renew(action.renewals);
      case 'restart':
        return this.restart(action);
      case 'restart-stale-pods':
        this.record.restarted = await restartStalePods(this.target, {
          client: this.settings.client,
          probe: this.settings.probe ?? { timeoutMs: 5000 },
          dryRun: this.settings.dryRun,
          log: (line) => this.say(line),
          context: this.settings.wait,
          now: this.settings.now,
          commandName: this.settings.commandName,
        });
        return;
      case 'restarted-by-ops':
        this.record.restarted = action.petSets;
        return;
      case 'wait':
        if (live) await this.waitFor(action.wait);
        return;
      case 'verify':
        if (live) await this.verify(action.expect);
        return;
      case 'finish-rotation':
        if (live) await this.finishRotation(action.certificates);
        return;
      case 'event':
        if (live)
          await this.settings.audit.record(this.snapshot.db, {
            reason: action.reason,
            note: action.note,
            ...(this.record.opsRequest ? { opsRequest: this.record.opsRequest } : {}),
          });
        return;
    }
  }

  private get target() {
    return { namespace: this.plan.namespace, name: this.plan.name };
  }

  private async createOpsRequest(action: Extract<Action, { kind: 'create-ops-request' }>): Promise<void> {
    const { namespace, name } = this.target;
    const prefix = action.prefix ?? '';
    if (this.settings.dryRun === 'client') {
      this.announce(
        `${prefix}would create a SinglestoreOpsRequest ${action.what} for ${namespace}/${name}${this.dry}${action.purpose}`,
        action.body,
      );
      return;
    }
    const created = await this.settings.client.create<OpsRequest>(
      Resources.opsRequest,
      namespace,
      action.body,
      this.settings.dryRun,
    );
    const createdName = created.metadata.name ?? action.body.metadata.generateName ?? '';
    this.created = createdName;
    if (this.settings.dryRun === 'none') this.record.opsRequest = createdName;
    this.announce(
      `${prefix}created SinglestoreOpsRequest ${namespace}/${createdName}${action.showKind ? ` ${action.what}` : ''}${this.dry}${action.purpose}`,
      created,
    );
  }

  private async patchTls(action: Extract<Action, { kind: 'patch-tls' }>): Promise<void> {
    const { namespace, name } = this.target;
    const { client } = this.settings;
    const prefix = action.prefix ?? '';
    let current: Singlestore = this.snapshot.db;
    const verb = action.tls ? 'patched' : 'removed';
    if (this.settings.dryRun === 'client') {
      this.announce(
        `${prefix}would patch spec.tls of Singlestore ${namespace}/${name}${this.dry}${action.purpose}`,
        tlsPatch(current, action.tls, action.annotations),
      );
      return;
    }
    let settled = false;
    await retryOnConflict(
      async () => {
        if (settled) return;
        const patched = await client.patch<Singlestore>(
          Resources.singlestore,
          { namespace, name },
          tlsPatch(current, action.tls, action.annotations),
          { dryRun: this.settings.dryRun },
        );
        this.announce(
          `${prefix}${verb} spec.tls of Singlestore ${namespace}/${name}${this.dry}${action.purpose}`,
          patched,
        );
      },
      async () => {
        this.settings.warn(
          `Singlestore ${namespace}/${name} changed while patching (conflict); retrying on a fresh read`,
        );
        current = await getDatabase(client, namespace, name);
        const tls = current.spec?.tls;
        if (action.tls === null && !tls?.issuerRef) {
          this.say(`TLS was turned off on Singlestore ${namespace}/${name} meanwhile: nothing to do`);
          settled = true;
        } else if (action.tls && sameTls(tls, action.tls)) {
          this.say(
            `TLS is already enabled on Singlestore ${namespace}/${name} with ${issuerText(action.tls)}: nothing to do`,
          );
          settled = true;
        } else if (action.tls && tls?.issuerRef && !action.overwrite) {
          throw refuse(
            `TLS was enabled on Singlestore ${namespace}/${name} by someone else meanwhile, with other settings; pass --overwrite to reconfigure`,
          );
        }
      },
    );
  }

  /**
   * Mark each Certificate with the revision (and serial) it is rotated from, then set Issuing=True
   * (reason ManuallyTriggered) through the status subresource, as `cmctl renew` does
   * (cert-manager cmd/ctl/pkg/renew). A Certificate an earlier run already moved is left alone.
   */
  private async renew(renewals: Renewal[]): Promise<void> {
    const { client, dryRun } = this.settings;
    const { namespace } = this.target;
    for (const first of renewals) {
      let renewal = first;
      const entry = this.snapshot.certificates.find((item) => item.name === renewal.name);
      await retryOnConflict(
        async () => {
          if (renewal.resumed) {
            this.say(
              `Certificate ${renewal.name}: re-issue already requested by an earlier run (from revision ${renewal.fromRevision})`,
            );
            return;
          }
          if (dryRun === 'client') {
            this.say(
              `would renew Certificate ${namespace}/${renewal.name} (Issuing=True, ManuallyTriggered)${this.dry}`,
            );
            return;
          }
          const now = this.settings.now();
          const marker = formatRenewalMarker({
            revision: renewal.fromRevision,
            at: now.toISOString(),
            ...(renewal.fromSerial ? { serial: renewal.fromSerial } : {}),
          });
          const withMarker = await client.patch<Certificate>(
            Resources.certificate,
            { namespace, name: renewal.name },
            {
              metadata: {
                resourceVersion: renewal.resourceVersion,
                annotations: { [rotateFromAnnotation]: marker },
              },
            },
            { dryRun },
          );
          const conditions = [
            ...(withMarker.status?.conditions ?? []).filter((condition) => condition.type !== 'Issuing'),
            {
              type: 'Issuing',
              status: 'True',
              reason: 'ManuallyTriggered',
              message: 'Certificate re-issuance manually triggered',
              lastTransitionTime: now.toISOString(),
            },
          ];
          // Guarded by the resourceVersion just written: a concurrent status change is a conflict, not a loss.
          await client.patch(
            Resources.certificate,
            { namespace, name: renewal.name },
            { metadata: { resourceVersion: withMarker.metadata.resourceVersion }, status: { conditions } },
            { subresource: 'status', dryRun },
          );
          this.say(
            `renewal of Certificate ${namespace}/${renewal.name} requested (Issuing=True, ManuallyTriggered)${this.dry}`,
          );
        },
        async () => {
          this.settings.conflictNotice(
            `Certificate ${renewal.name} changed while marking it (conflict); retrying on a fresh read`,
          );
          const certificate = await client.get<Certificate>(Resources.certificate, namespace, renewal.name);
          renewal =
            renewalFor(
              { alias: '', secret: '', ...entry, name: renewal.name, certificate },
              this.settings.now(),
            ) ?? renewal;
        },
      );
      const index = this.record.certificates.findIndex((item) => item.name === renewal.name);
      const recorded = this.record.certificates[index];
      if (recorded && renewal.fromSerial !== recorded.oldSerial) {
        const { oldNotAfter: _, ...rest } = recorded;
        this.record.certificates[index] = {
          ...rest,
          ...(renewal.fromSerial ? { oldSerial: renewal.fromSerial } : {}),
        };
      }
    }
  }

  private async restart(action: Extract<Action, { kind: 'restart' }>): Promise<void> {
    const { client, dryRun } = this.settings;
    const { namespace } = this.target;
    const decision = restartDecision(
      {
        petSets: this.snapshot.petSets,
        requests: this.snapshot.opsRequests,
        newestIssue: action.onlyOlderThanCertificates
          ? (this.newest ?? newestIssue(this.snapshot.certificates))
          : new Date(8.64e15).toISOString(),
      },
      action.via,
    );
    if (action.via === 'ops-request') {
      let requestName = decision.continueWith;
      if (decision.doneBy) {
        this.say(
          `the pods were restarted by SinglestoreOpsRequest ${namespace}/${decision.doneBy.name} at ${decision.doneBy.at}, after the certificates were issued`,
        );
        this.record.restarted = action.petSets;
        return;
      }
      if (requestName) this.say(`continuing with Restart request ${requestName} from an earlier run`);
      else if (dryRun === 'client') {
        this.say(
          `would create a SinglestoreOpsRequest (Restart) for ${namespace}/${this.plan.name}${this.dry}`,
        );
      } else {
        const created = await client.create<OpsRequest>(
          Resources.opsRequest,
          namespace,
          opsRequestBody(this.snapshot.db, 'restart', {
            type: 'Restart',
            databaseRef: { name: this.plan.name },
            restart: {},
          }),
          dryRun,
        );
        requestName = created.metadata.name;
        this.say(`created SinglestoreOpsRequest ${namespace}/${requestName} (Restart)${this.dry}`);
      }
      this.record.restarted = action.petSets;
      if (dryRun === 'none' && action.wait && requestName)
        await waitFor(this.settings.wait, opsRequestStep(namespace, requestName));
      return;
    }
    for (const { petSet, at } of decision.already)
      this.say(`PetSet ${petSet} was already restarted at ${at}, after the certificates were issued`);
    const at = this.settings
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    for (const petSet of decision.restart) {
      if (dryRun === 'client') {
        this.say(`would restart PetSet ${namespace}/${petSet} (${restartedAtAnnotation}=${at})${this.dry}`);
        continue;
      }
      await client.patch(
        Resources.petset,
        { namespace, name: petSet },
        { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: at } } } } },
        { dryRun },
      );
      this.say(`restarted PetSet ${namespace}/${petSet} (${restartedAtAnnotation}=${at})${this.dry}`);
    }
    this.record.restarted = [...decision.already.map((entry) => entry.petSet), ...decision.restart];
  }

  private async waitFor(spec: WaitSpec): Promise<void> {
    const { namespace } = this.target;
    const context = this.settings.wait;
    switch (spec.step) {
      case 'ops-request': {
        const name = spec.name ?? this.created;
        if (!name) return;
        this.record.opsRequest ??= name;
        await waitFor(context, opsRequestStep(namespace, name));
        return;
      }
      case 'certificates':
        await waitFor(context, certificatesStep(namespace, spec.names, new Map(Object.entries(spec.after))));
        return;
      case 'secrets': {
        const populated = await waitFor(
          context,
          secretsStep(namespace, spec.names, new Map(Object.entries(spec.oldSerials))),
        );
        const issued = this.snapshot.certificates.map((entry) => {
          const secret = populated.find((item) => item.metadata.name === entry.secret);
          const facts = secret ? inspectTlsData(decodeTls(secret)).certificate : undefined;
          return { entry, facts };
        });
        const notAfter = new Map(
          issued.flatMap(({ entry, facts }) =>
            facts && spec.names.includes(entry.secret) ? [[entry.name, facts.notAfter] as const] : [],
          ),
        );
        if (notAfter.size) await waitFor(context, certificateStatusStep(namespace, notAfter));
        this.newest = newestIssue(
          issued.map(({ facts }) =>
            facts
              ? {
                  issued: {
                    serial: facts.serialNumber,
                    notBefore: facts.notBefore,
                    notAfter: facts.notAfter,
                  },
                }
              : {},
          ),
        );
        this.record.certificates = this.record.certificates.map((recorded, index) => {
          const { entry, facts } = issued[index] ?? {};
          const oldSerial = entry ? spec.oldSerials[entry.secret] : undefined;
          const { oldSerial: read, oldNotAfter, ...rest } = recorded;
          const from = oldSerial ?? read;
          return {
            ...rest,
            ...(from ? { oldSerial: from } : {}),
            ...(from && from === entry?.issued?.serial && oldNotAfter ? { oldNotAfter } : {}),
            ...(facts ? { newSerial: facts.serialNumber, newNotAfter: facts.notAfter } : {}),
          };
        });
        return;
      }
      case 'rollout':
        if (spec.ifRestarted && this.record.restarted.length === 0) return;
        await waitFor(context, rolloutStep(namespace, spec.petSets, spec.mounted, spec.unmounted));
        return;
    }
  }

  private async verify(expect: 'tls' | 'rotated' | 'no-restart' | 'no-tls'): Promise<void> {
    const { client, commandName } = this.settings;
    const options = {
      now: this.settings.now(),
      commandName,
      interrupt: this.settings.wait.interrupt,
      ...(this.settings.probe ? { probe: this.settings.probe } : {}),
    };
    if (expect === 'no-tls') {
      const verified = await verifyPlain(client, this.target, options, this.settings.verifyOut);
      this.record.served = verified.pods;
      this.record.health = verified.code === 0 ? 'OK' : 'WARNING';
      this.record.exitCode = verified.code === 0 ? ExitCode.ok : ExitCode.findings;
      return;
    }
    const verified = await verifyDatabase(client, this.target, options, this.settings.verifyOut);
    this.record.health = verified.report?.health;
    // In the record too: with -o json the check's own lines are not printed, and a script needs the why.
    const findings = (verified.report?.findings ?? [])
      .filter((finding) => finding.severity !== 'info')
      .map(({ severity, step, object, message }) => ({ severity, step, object, message }));
    if (findings.length) this.record.findings = findings;
    this.record.exitCode = verified.code === 0 ? ExitCode.ok : ExitCode.findings;
    if (expect === 'tls') return;
    const pods = podsOf(verified.report);
    this.record.served = pods.map((pod) => ({
      pod: pod.name,
      served: pod.served,
      ...(pod.probe?.served ? { serial: pod.probe.served.serialNumber } : {}),
    }));
    const { name, namespace } = this.target;
    if (expect === 'no-restart') {
      this.record.exitCode = ExitCode.ok;
      const stale = pods.filter((pod) => pod.served === 'stale');
      if (stale.length)
        this.say(
          `as expected with --no-restart, ${stale.map((pod) => pod.name).join(', ')} still serve${stale.length === 1 ? 's' : ''} the old certificate (seen on the wire); to load the new one: ${commandName} tls rotate ${name} -n ${namespace} --restart-only --stale-only`,
        );
      return;
    }
    const podProblems = (verified.report?.findings ?? []).filter(
      (finding) => finding.step === 'pods' && finding.severity !== 'info',
    );
    const first = podProblems[0];
    if (first)
      throw new CliError(
        `after the restart, ${podProblems.map((finding) => finding.message).join('; ')}${first.hint ? `; next: ${first.hint}` : ''}`,
        ExitCode.runtime,
      );
  }

  /** The rotation is through: each start marker becomes the record of when it finished (at which revision). */
  private async finishRotation(certificates: string[]): Promise<void> {
    const { client } = this.settings;
    const { namespace } = this.target;
    const now = this.settings.now();
    for (const name of certificates) {
      const certificate = await client.find<Certificate>(Resources.certificate, namespace, name);
      if (!certificate) continue;
      await client.patch(
        Resources.certificate,
        { namespace, name },
        {
          metadata: {
            annotations: {
              [rotateFromAnnotation]: null,
              [rotatedAnnotation]: formatRotatedMarker(certificate.status?.revision ?? 0, now),
            },
          },
        },
      );
    }
  }
}
