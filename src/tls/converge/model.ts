/**
 * What `tls enable`, `tls rotate` and `tls disable` plan and carry out: a snapshot of one database
 * (gathered once, read only), the typed actions a planner returns for it, and the record of what
 * the executor did. Planners are pure functions of (snapshot, options); the executor is the one
 * place that writes, waits, retries conflicts, handles dry runs and fills the result record.
 */
import type { DryRun } from '../../kube/client.ts';
import type { Certificate, OpsRequest, PetSet, Singlestore, TlsConfig } from '../../kubedb/types.ts';

export type Operation = 'enable' | 'rotate' | 'disable';

/**
 * How long a finished change counts as "the one being re-run": within it a re-run says "nothing to
 * do" (`--force` changes again), after it the same command is a new change.
 */
export const rerunWindowMs = 3_600_000;

export interface CertificateState {
  alias: string;
  /** The Certificate's name (KubeDB's naming), and its Secret's. */
  name: string;
  secret: string;
  certificate?: Certificate;
  /** The certificate the Secret holds now. */
  issued?: { serial: string; notBefore: string; notAfter: string };
}

export interface PetSetState {
  name: string;
  petSet?: PetSet;
}

export interface IssuerState {
  /** `Issuer "x" in namespace "y"` or `ClusterIssuer "x"`. */
  what: string;
  cluster: boolean;
  found: boolean;
  ready: boolean;
  message?: string;
  /** The issuer's CA, where it has one the user may read (for enable's lints). */
  ca?: { secret: string; notAfter: string };
}

/** Everything a planner may look at for one database, read in one go. */
export interface ConvergeSnapshot {
  now: Date;
  db: Singlestore;
  certManager: boolean;
  /** KubeDB's ops manager is installed (singlestoreopsrequests is served). */
  opsManager: boolean;
  certificates: CertificateState[];
  petSets: PetSetState[];
  /** This database's ops requests, this tool's in any phase and others' (in flight or not). */
  opsRequests: OpsRequest[];
  /** The issuer the change uses: the desired one for enable, the database's own for rotate. */
  issuer?: IssuerState;
}

/** What a wait action waits for; `ops-request` without a name is the one this run created. */
export type WaitSpec =
  | { step: 'ops-request'; name?: string }
  | { step: 'certificates'; names: string[]; after: Record<string, number> }
  | { step: 'secrets'; names: string[]; oldSerials: Record<string, string> }
  | {
      step: 'rollout';
      petSets: string[];
      mounted: string[];
      unmounted?: string[];
      /** Only when this run restarted something (--stale-only may restart nothing). */
      ifRestarted?: boolean;
    };

/** One Certificate to renew as `cmctl renew` does, marked with where the rotation starts. */
export interface Renewal {
  name: string;
  resourceVersion?: string;
  fromRevision: number;
  fromSerial?: string;
  /** Already requested by an earlier run (its marker is live and the Certificate moved on). */
  resumed: boolean;
}

export type AuditReason = 'TLSEnabled' | 'TLSRotationStarted' | 'TLSRotated' | 'TLSDisabled';

export type Action =
  /** A line for the user (on the log stream). */
  | { kind: 'say'; text: string; unlessDryRun?: boolean }
  | {
      kind: 'create-ops-request';
      body: OpsRequest;
      /** What it does, e.g. "(ReconfigureTLS, rotateCertificates)". */
      what: string;
      /** Said after "created SinglestoreOpsRequest ns/name" (or "would create ..."). */
      purpose: string;
      /** The created line names the kind too (`what`). */
      showKind?: boolean;
      /** Said before it (a reconfiguration's diff). */
      prefix?: string;
    }
  | {
      kind: 'patch-tls';
      /** The spec.tls to set; null removes it. */
      tls: TlsConfig | null;
      resourceVersion?: string;
      /** On a conflict, a fresh read with other TLS settings is overwritten only with --overwrite. */
      overwrite: boolean;
      purpose: string;
      prefix?: string;
      annotations?: Record<string, string | null>;
    }
  | { kind: 'renew'; renewals: Renewal[] }
  | {
      kind: 'restart';
      via: 'ops-request' | 'annotation';
      petSets: string[];
      /** Restart only what started before the newest certificate (an earlier run may have done it). */
      onlyOlderThanCertificates: boolean;
      /** Follow a Restart ops request to its end. */
      wait: boolean;
    }
  /** KubeDB's ops request restarted these PetSets (for the record). */
  | { kind: 'restarted-by-ops'; petSets: string[] }
  | { kind: 'restart-stale-pods' }
  | { kind: 'wait'; wait: WaitSpec }
  | { kind: 'verify'; expect: 'tls' | 'rotated' | 'no-restart' | 'no-tls' }
  /** The rotation is through: its start markers become a "rotated" record. */
  | { kind: 'finish-rotation'; certificates: string[] }
  | { kind: 'event'; reason: AuditReason; note: string };

export interface Plan {
  operation: Operation;
  namespace: string;
  name: string;
  /** ops-request, patch, cert-manager, restart-only. */
  method: string;
  /** Nothing to change: said as is, and only the checks (with --wait) follow. */
  upToDate?: string;
  /** Lines for stderr before anything happens (preflight warnings). */
  warnings: string[];
  actions: Action[];
  /** The result once the actions ran (without dry run). */
  result: ResultKind;
}

export type ResultKind =
  | 'enabled'
  | 'rotated'
  | 'restarted'
  | 'requested'
  | 'disabled'
  | 'up-to-date'
  | 'dry-run'
  | 'failed';

/** The per-database record: printed as a line, a table row, or JSON (versioned schemas). */
export interface ConvergeRecord {
  namespace: string;
  name: string;
  result: ResultKind;
  method: string;
  /** The ops request this run created or continued with. */
  opsRequest?: string;
  certificates: {
    name: string;
    oldSerial?: string;
    newSerial?: string;
    oldNotAfter?: string;
    newNotAfter?: string;
  }[];
  restarted: string[];
  /** What each pod serves after the change (on the wire where the probe ran). */
  served?: { pod: string; served: string; serial?: string }[];
  elapsedSeconds: number;
  health?: string;
  /** Why the final check did not pass: its warnings and critical findings. */
  findings?: { severity: string; step: string; object: string; message: string }[];
  error?: string;
  exitCode: number;
}

/** Options every planner shares. */
export interface PlanOptionsBase {
  dryRun: DryRun;
  wait: boolean;
  /** Go on despite a safety check (an issuer not Ready, a change finished moments ago). */
  force: boolean;
}
