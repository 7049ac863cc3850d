/**
 * Decide: a pure function from the gathered objects and `now` to the report. Every step of the TLS
 * path (cert-manager -> Issuer -> Singlestore spec.tls -> Certificates -> Secrets -> PetSets -> pods)
 * is checked against the live objects and the x509 facts in the Secrets, never against the operator's
 * summary alone (cert-manager says Ready for an expired certificate, cert-manager#7895).
 */
import { type Condition, findCondition } from '../kube/objects.ts';
import { certificateName, governingServiceName, petSetNames, tlsCertificates } from '../kubedb/naming.ts';
import { mountedSecrets, rolledOut } from '../kubedb/petset.ts';
import type {
  Certificate,
  CertificateSpec,
  Issuer,
  IssuerRef,
  OpsRequest,
  PetSet,
  Pod,
  Singlestore,
} from '../kubedb/types.ts';
import { byText } from '../util/compare.ts';
import { caFacts, caLineage, caSecretOf, holdsRoot, invalidIssuerRef, issuerType, signedBy } from './ca.ts';
import { isClientCertificateOf, userOf } from './client-certs.ts';
import type { CertificateRequest, KubeEvent, Listed, Snapshot } from './gather.ts';
import { issuerReadiness } from './issuer.ts';
import { databasePort, type ProbeResult } from './probe.ts';
import {
  type CaReport,
  type CertificateReport,
  type ClientCertificateReport,
  type DatabaseReport,
  type Finding,
  healthOf,
  type IssuerReport,
  type OpsRequestReport,
  type PetSetReport,
  type PodReport,
  reportApiVersion,
  type SecretReport,
  type Served,
  type StatusReport,
  steps,
} from './report.ts';
import { coversHost, sameNotAfter } from './x509.ts';

export interface DiagnoseOptions {
  now: Date;
  /** Expiry closer than this is a warning. */
  warnWithinMs: number;
  /** TLS disabled is critical instead of informational. */
  requireTls: boolean;
  /** "kubectl singlestore", for hints that name a command. */
  commandName: string;
}

const dayMs = 86_400_000;
const tlsSecretType = 'kubernetes.io/tls';

export function diagnose(snapshot: Snapshot, options: DiagnoseOptions): StatusReport {
  const scopeFindings: Finding[] = [];
  if (!snapshot.certManagerServed) {
    scopeFindings.push({
      step: 'cert-manager',
      severity: 'critical',
      object: 'CustomResourceDefinition certificates.cert-manager.io',
      message: 'cert-manager is not installed: its CRDs are not served by the API server',
      hint: 'install cert-manager (https://cert-manager.io/docs/installation/) before enabling TLS',
    });
  }
  const view = namespaceViews(snapshot);
  const databases = (snapshot.singlestores.ok ? snapshot.singlestores.items : [])
    .map((db) => diagnoseDatabase(db, view(db.metadata.namespace ?? ''), options))
    .sort((a, b) => byText(a.namespace, b.namespace) || byText(a.name, b.name));
  const count = (health: string) => databases.filter((db) => db.health === health).length;
  return {
    apiVersion: reportApiVersion,
    kind: 'TLSStatusReport',
    generatedAt: options.now.toISOString(),
    scope: {
      ...(snapshot.scope.namespace ? { namespace: snapshot.scope.namespace } : {}),
      allNamespaces: snapshot.scope.namespace === undefined,
      ...(snapshot.scope.name ? { name: snapshot.scope.name } : {}),
      ...(snapshot.scope.labelSelector ? { labelSelector: snapshot.scope.labelSelector } : {}),
    },
    warnWithinDays: Math.round((options.warnWithinMs / dayMs) * 100) / 100,
    findings: scopeFindings,
    databases,
    summary: {
      databases: databases.length,
      ok: count('OK'),
      warning: count('WARNING'),
      critical: count('CRITICAL'),
      health: healthOf([...scopeFindings, ...databases.flatMap((db) => db.findings)]),
    },
  };
}

/**
 * The snapshot as the databases of one namespace see it: every namespaced list cut to that namespace,
 * each list grouped once. A database's checks scan lists for its own objects, so -A over 2,000
 * databases would otherwise scan every Certificate, Secret and pod of the cluster 2,000 times.
 * Cluster-scoped and cross-namespace reads (ClusterIssuers, CA Secrets, --ca-file) are kept whole.
 */
function namespaceViews(snapshot: Snapshot): (namespace: string) => Snapshot {
  const groups = new Map<string, Partial<Snapshot>>();
  const group = <K extends keyof Snapshot, T>(
    key: K,
    listed: Listed<T>,
    namespaceOf: (item: T) => string,
  ) => {
    if (!listed.ok) return;
    for (const item of listed.items) {
      const namespace = namespaceOf(item);
      const view = groups.get(namespace) ?? {};
      groups.set(namespace, view);
      const list = (view[key] as Listed<T> | undefined) ?? { ok: true as const, items: [] };
      (list as { items: T[] }).items.push(item);
      view[key] = list as Snapshot[K];
    }
  };
  const metadataNamespace = (item: { metadata: { namespace?: string } }) => item.metadata.namespace ?? '';
  group('certificates', snapshot.certificates, metadataNamespace);
  group('certificateRequests', snapshot.certificateRequests, metadataNamespace);
  group('certificateEvents', snapshot.certificateEvents, metadataNamespace);
  group('secrets', snapshot.secrets, (secret) => secret.namespace);
  group('petSets', snapshot.petSets, metadataNamespace);
  group('pods', snapshot.pods, metadataNamespace);
  group('issuers', snapshot.issuers, metadataNamespace);
  group('opsRequests', snapshot.opsRequests, metadataNamespace);
  const empty = <T>(listed: Listed<T>): Listed<T> => (listed.ok ? { ok: true, items: [] } : listed);
  const views = new Map<string, Snapshot>();
  return (namespace) => {
    let view = views.get(namespace);
    if (!view) {
      const own = groups.get(namespace) ?? {};
      view = {
        ...snapshot,
        certificates: own.certificates ?? empty(snapshot.certificates),
        certificateRequests: own.certificateRequests ?? empty(snapshot.certificateRequests),
        certificateEvents: own.certificateEvents ?? empty(snapshot.certificateEvents),
        secrets: own.secrets ?? empty(snapshot.secrets),
        petSets: own.petSets ?? empty(snapshot.petSets),
        pods: own.pods ?? empty(snapshot.pods),
        issuers: own.issuers ?? empty(snapshot.issuers),
        opsRequests: own.opsRequests ?? empty(snapshot.opsRequests),
      };
      views.set(namespace, view);
    }
    return view;
  };
}

/** Everything known about one database while it is being checked. */
interface Check {
  db: Singlestore;
  namespace: string;
  name: string;
  snapshot: Snapshot;
  options: DiagnoseOptions;
  findings: Finding[];
}

function diagnoseDatabase(db: Singlestore, snapshot: Snapshot, options: DiagnoseOptions): DatabaseReport {
  const namespace = db.metadata.namespace ?? '';
  const name = db.metadata.name;
  const check: Check = { db, namespace, name, snapshot, options, findings: [] };
  const phase = db.status?.phase ?? 'Unknown';
  const tls = db.spec?.tls;
  const report: DatabaseReport = {
    namespace,
    name,
    health: 'OK',
    phase,
    tls: { enabled: Boolean(tls?.issuerRef) },
    certificates: [],
    petSets: [],
    opsRequests: opsRequestsOf(check),
    findings: check.findings,
  };
  if (phase !== 'Ready') {
    add(check, {
      step: 'database',
      severity: phase === 'Critical' || phase === 'NotReady' ? 'warning' : 'info',
      object: `Singlestore ${namespace}/${name}`,
      message: `the database phase is ${phase}`,
    });
  }
  if (!tls?.issuerRef) {
    add(check, {
      step: 'database',
      severity: options.requireTls ? 'critical' : 'info',
      object: `Singlestore ${namespace}/${name}`,
      message: 'TLS is not enabled (spec.tls is not set)',
      hint: `${options.commandName} tls enable ${name} -n ${namespace} --issuer <issuer>`,
    });
  } else {
    if (!snapshot.certManagerServed) {
      add(check, {
        step: 'cert-manager',
        severity: 'critical',
        object: `Singlestore ${namespace}/${name}`,
        message: 'spec.tls is set but cert-manager is not installed',
      });
    }
    const ref = tls.issuerRef;
    report.tls.issuerRef = {
      name: ref.name,
      ...(ref.kind ? { kind: ref.kind } : {}),
      ...(ref.apiGroup ? { apiGroup: ref.apiGroup } : {}),
    };
    const invalid = invalidIssuerRef(ref);
    const issuer = invalid ? undefined : checkIssuer(check, ref);
    if (invalid) {
      add(check, {
        step: 'issuer',
        severity: 'critical',
        object: `Singlestore ${namespace}/${name}`,
        message: invalid,
        hint: `kubectl edit singlestore ${name} -n ${namespace}: set spec.tls.issuerRef to {apiGroup: cert-manager.io, kind: Issuer or ClusterIssuer, name: ...}`,
      });
    }
    if (issuer) report.tls.issuer = issuer.report;
    report.certificates = certificateSpecs(db).map((spec) => checkCertificate(check, spec));
    if (issuer) issuer.report.ca = checkCaLineage(check, issuer, report.certificates);
    notChecked(check, snapshot.pods, { step: 'pods', what: 'Pods' });
    notChecked(check, snapshot.certificateRequests, {
      step: 'certificate',
      what: 'CertificateRequests',
      severity: 'info',
    });
    notChecked(check, snapshot.certificateEvents, { step: 'certificate', what: 'Events', severity: 'info' });
    const clientCertificates = checkClientCertificates(check);
    if (clientCertificates.length) report.clientCertificates = clientCertificates;
    report.petSets = checkPetSets(check, report.certificates);
    const served = servedCounts(report.petSets.flatMap((petSet) => petSet.pods ?? []));
    if (served) report.served = served;
    const expiries = report.certificates.flatMap((certificate) => certificate.secret.certificate ?? []);
    const earliest = expiries.sort((a, b) => byText(a.notAfter, b.notAfter))[0];
    if (earliest) report.earliestExpiry = { notAfter: earliest.notAfter, daysLeft: earliest.daysLeft };
  }
  if (tls?.issuerRef)
    notChecked(check, snapshot.opsRequests, { step: 'ops-request', what: 'SinglestoreOpsRequests' });
  checkOpsRequests(check, report.opsRequests);
  check.findings.sort(
    (a, b) => steps.indexOf(a.step) - steps.indexOf(b.step) || severityRank(a) - severityRank(b),
  );
  report.health = healthOf(check.findings);
  return report;
}

function severityRank(finding: Finding): number {
  return ['critical', 'warning', 'info'].indexOf(finding.severity);
}

function add(check: Check, finding: Omit<Finding, 'hint'> & { hint?: string | undefined }): void {
  const { hint, ...rest } = finding;
  check.findings.push({ ...rest, ...(hint ? { hint } : {}) });
}

/** The resource each "not checked" kind is listed as, for the RBAC hint. */
const listedAs: Record<string, string> = {
  Certificates: 'certificates.cert-manager.io',
  CertificateRequests: 'certificaterequests.cert-manager.io',
  Issuers: 'issuers.cert-manager.io',
  ClusterIssuers: 'clusterissuers.cert-manager.io',
  Secrets: 'secrets',
  PetSets: 'petsets.apps.k8s.appscode.com',
  Pods: 'pods',
  Events: 'events',
  SinglestoreOpsRequests: 'singlestoreopsrequests.ops.kubedb.com',
};

/**
 * Listing a kind was not allowed (or failed): one finding per database and kind, named "not checked",
 * so nothing is skipped silently. Kinds that only add context (requests, events) are informational.
 */
function notChecked(
  check: Check,
  listed: Listed<unknown>,
  kind: { step: Finding['step']; what: string; severity?: Finding['severity'] },
): void {
  const { step, what, severity = 'warning' } = kind;
  if (listed.ok || listed.reason === 'not-served') return;
  const already = check.findings.some(
    (finding) => finding.step === step && finding.message.startsWith(`${what} not checked`),
  );
  if (already) return;
  const resource = listedAs[what] ?? what.toLowerCase();
  const where = what === 'ClusterIssuers' ? '' : ` -n ${check.namespace}`;
  add(check, {
    step,
    severity,
    object: `${what} in ${check.namespace}`,
    message: `${what} not checked: ${listed.reason === 'forbidden' ? 'forbidden' : listed.message}`,
    hint:
      listed.reason === 'forbidden'
        ? `kubectl auth can-i list ${resource}${where}: bind the kubectl-singlestore-status role of docs/rbac.yaml`
        : `kubectl get ${resource}${where}`,
  });
}

function items<T>(listed: Listed<T>): T[] {
  return listed.ok ? listed.items : [];
}

function inNamespace<T extends { metadata: { namespace?: string; name: string } }>(
  list: T[],
  namespace: string,
  name: string,
): T | undefined {
  return list.find((item) => item.metadata.namespace === namespace && item.metadata.name === name);
}

/**
 * The client certificates `tls client-cert` made for the database (found by their labels in the
 * Certificates already listed), with the same x509 checks of their Secrets as KubeDB's own.
 */
function checkClientCertificates(check: Check): ClientCertificateReport[] {
  const { namespace, name, options } = check;
  return items(check.snapshot.certificates)
    .filter((certificate) => isClientCertificateOf(certificate, { namespace, name }))
    .map((certificate) => {
      const user = userOf(certificate) ?? '';
      const object = `Certificate ${namespace}/${certificate.metadata.name}`;
      const ready = findCondition(certificate.status?.conditions, 'Ready');
      if (ready?.status !== 'True')
        add(check, {
          step: 'certificate',
          severity: 'warning',
          object,
          message: `the client certificate of user "${user}" is not Ready${ready?.message ? `: ${ready.message}` : ''}`,
        });
      const before = check.findings.length;
      const secret = checkSecret(check, 'client-user', certificate.spec.secretName);
      // Renewing a client certificate is cert-manager's renewal, not a rotation of the database.
      for (const finding of check.findings.slice(before))
        if (finding.hint?.includes(' tls rotate '))
          finding.hint = `cmctl renew ${certificate.metadata.name} -n ${namespace}, then ${options.commandName} tls client-cert ${name} -n ${namespace} --db-user ${user} --out DIR`;
      return {
        user,
        name: certificate.metadata.name,
        ready: ready ? ready.status === 'True' : null,
        ...(certificate.status?.notAfter ? { notAfter: certificate.status.notAfter } : {}),
        secret,
      };
    })
    .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
}

/** The issuer a database refers to, its report, and the object when it was found. */
interface IssuerCheck {
  report: IssuerReport;
  issuer?: Issuer;
  cluster: boolean;
  object: string;
}

function checkIssuer(check: Check, ref: IssuerRef): IssuerCheck {
  const cluster = ref.kind === 'ClusterIssuer';
  const kind = cluster ? 'ClusterIssuer' : 'Issuer';
  const listed = cluster ? check.snapshot.clusterIssuers : check.snapshot.issuers;
  const object = cluster ? `ClusterIssuer ${ref.name}` : `Issuer ${check.namespace}/${ref.name}`;
  if (!listed.ok) {
    if (check.snapshot.certManagerServed) notChecked(check, listed, { step: 'issuer', what: `${kind}s` });
    return { report: { kind, name: ref.name, found: null, ready: null }, cluster, object };
  }
  const issuer = cluster
    ? listed.items.find((item) => item.metadata.name === ref.name)
    : inNamespace(listed.items, check.namespace, ref.name);
  const readiness = issuerReadiness(issuer);
  if (!readiness.found) {
    add(check, {
      step: 'issuer',
      severity: 'critical',
      object,
      message: `${kind} "${ref.name}" does not exist`,
      hint: cluster
        ? `kubectl get clusterissuers: create ClusterIssuer ${ref.name}, or point spec.tls.issuerRef of Singlestore ${check.namespace}/${check.name} at an existing one`
        : `kubectl get issuers -n ${check.namespace}: create Issuer ${ref.name} there, or point spec.tls.issuerRef of Singlestore ${check.namespace}/${check.name} at an existing one`,
    });
  } else if (!readiness.ready) {
    add(check, {
      step: 'issuer',
      severity: 'critical',
      object,
      message: `${kind} is not Ready: ${readiness.message}`,
      hint: `kubectl describe ${kind.toLowerCase()} ${ref.name}${cluster ? '' : ` -n ${check.namespace}`}: cert-manager issues nothing until it is Ready`,
    });
  }
  return {
    report: { kind, name: ref.name, ...readiness, ...(issuer ? { type: issuerType(issuer) } : {}) },
    ...(issuer ? { issuer } : {}),
    cluster,
    object,
  };
}

/**
 * The CA behind the certificates: does each leaf still verify with the key the issuer signs with now,
 * does ca.crt hold its current root, and does the CA outlive the leaves. Replacing a CA Issuer's
 * Secret re-issues nothing (cert-manager#5851): the leaves stay on the old CA and stay Ready.
 */
function checkCaLineage(check: Check, issuer: IssuerCheck, certificates: CertificateReport[]): CaReport {
  const { snapshot, options, namespace, name } = check;
  const { report, object, cluster } = issuer;
  const kind = cluster ? 'ClusterIssuer' : 'Issuer';
  const notChecked = (reason: string, hint?: string): CaReport => {
    const message = reason.startsWith('issuer type')
      ? `CA not checked (${reason})`
      : `CA not checked: ${reason}`;
    add(check, { step: 'issuer', severity: 'info', object, message, hint });
    return { checked: false, reason };
  };
  let pems = snapshot.caFile;
  let secretName: string | undefined;
  if (!pems) {
    if (!issuer.issuer) return { checked: false, reason: `${kind} not found` };
    const where = caSecretOf(issuer.issuer, { cluster, namespace }, snapshot.clusterResourceNamespace);
    if (!where) return notChecked(`issuer type ${report.type ?? 'unknown'}`, caFileHint(check));
    secretName = `${where.namespace}/${where.name}`;
    const read = snapshot.caSecrets.find(
      (item) => item.namespace === where.namespace && item.name === where.name,
    );
    if (!read || !read.ok) {
      if (read?.reason === 'forbidden')
        return notChecked(
          'forbidden (see the ca-check role)',
          `bind the kubectl-singlestore-ca-check role of docs/rbac.yaml for Secret ${secretName}, or pass --ca-file with the CA's certificate`,
        );
      if (read?.reason === 'not-found')
        return notChecked(
          `CA Secret ${secretName} not found`,
          cluster
            ? `kubectl get secret ${where.name} -n ${where.namespace}; if cert-manager runs with another --cluster-resource-namespace, pass the same one`
            : `kubectl get secret ${where.name} -n ${where.namespace}: the Issuer's spec.ca.secretName must name it`,
        );
      return notChecked(`CA Secret ${secretName}: ${read?.message ?? 'not read'}`);
    }
    pems = read.pems;
  }
  const lineage = caLineage(pems);
  if (typeof lineage === 'string') return notChecked(lineage);
  const source = secretName ? `the CA in Secret ${secretName}` : 'the CA of --ca-file';
  const ca: CaReport = {
    checked: true,
    source: secretName ? 'secret' : 'file',
    ...(secretName ? { secret: secretName } : {}),
    signer: caFacts(lineage.signer),
    root: caFacts(lineage.root),
    intermediate: lineage.intermediate,
  };
  const rotateIssuer = `${options.commandName} tls rotate --issuer ${report.name}${cluster ? ' --cluster-issuer -A' : ` -n ${namespace}`}`;
  const notSigned: string[] = [];
  const staleCaCrt: string[] = [];
  const outlives: string[] = [];
  const caNotAfter = [lineage.signer, lineage.root]
    .map((certificate) => new Date(certificate.validTo).toISOString())
    .sort()[0] as string;
  for (const certificate of certificates) {
    const secret = items(snapshot.secrets).find(
      (item) => item.namespace === namespace && item.name === certificate.secret.name,
    );
    const x509 = certificate.secret.certificate;
    if (!x509 || !secret?.tlsCrt) continue;
    const signed = signedBy(secret.tlsCrt, lineage.signer);
    x509.signedByIssuerCa = signed ? 'signed' : 'not-signed';
    if (!signed) {
      notSigned.push(certificate.secret.name);
      continue;
    }
    if (!lineage.intermediate) {
      x509.caCrtIsIssuerRoot = holdsRoot(secret.caCrt, lineage.root);
      if (!x509.caCrtIsIssuerRoot) staleCaCrt.push(certificate.secret.name);
    }
    // cert-manager's CA issuer does not cap a leaf at its CA's notAfter (cert-manager#5864). A leaf
    // renewed before its CA expires is fine; one still in use when the CA expires is refused.
    const renewal = certificate.renewalTime ? new Date(certificate.renewalTime).toISOString() : x509.notAfter;
    if (x509.notAfter > caNotAfter && renewal > caNotAfter) outlives.push(certificate.secret.name);
  }
  const secrets = (names: string[]) =>
    `${names.length === 1 ? 'Secret' : 'Secrets'} ${names.map((secret) => `${namespace}/${secret}`).join(', ')}`;
  if (notSigned.length) {
    add(check, {
      step: 'issuer',
      severity: 'critical',
      object,
      message: `${secrets(notSigned)} hold${notSigned.length === 1 ? 's' : ''} a certificate issued by a CA that ${kind} ${report.name} no longer uses (not signed by ${source}): clients that trust the current CA will refuse it`,
      hint: `${rotateIssuer} (or only this database: ${options.commandName} tls rotate ${name} -n ${namespace})`,
    });
  }
  if (staleCaCrt.length) {
    add(check, {
      step: 'issuer',
      severity: 'warning',
      object,
      message: `ca.crt of ${secrets(staleCaCrt)} is not ${kind} ${report.name}'s current root (${ca.root?.subject}, serial ${ca.root?.serialNumber}): clients that take this ca.crt as their trust anchor will refuse certificates of the current CA`,
      hint: `${options.commandName} tls rotate ${name} -n ${namespace}`,
    });
  }
  if (outlives.length) {
    add(check, {
      step: 'issuer',
      severity: 'warning',
      object,
      message: `the certificate in ${secrets(outlives)} outlives its CA, which expires at ${caNotAfter}, before cert-manager renews the certificate: from then on clients refuse it`,
      hint: `renew the CA${secretName ? ` in Secret ${secretName}` : ''} (README: Rotating the CA), then ${rotateIssuer} --include-current`,
    });
  }
  const caLeft = Date.parse(caNotAfter) - options.now.getTime();
  if (caLeft < options.warnWithinMs) {
    add(check, {
      step: 'issuer',
      severity: caLeft <= 0 ? 'critical' : 'warning',
      object,
      message:
        caLeft <= 0
          ? `${source} expired at ${caNotAfter}: clients refuse every certificate it signed`
          : `${source} expires in ${span(caLeft)} (notAfter ${caNotAfter})`,
      hint: `renew the CA${secretName ? ` in Secret ${secretName}` : ''} (README: Rotating the CA), then ${rotateIssuer} --include-current`,
    });
  }
  return ca;
}

function caFileHint(check: Check): string {
  return `to check it anyway, pass the CA's certificate: ${check.options.commandName} tls status ${check.name} -n ${check.namespace} --ca-file ca.pem`;
}

function certificateSpecs(db: Singlestore): CertificateSpec[] {
  const given = db.spec?.tls?.certificates ?? [];
  return tlsCertificates(db.metadata.name, given).map(
    ({ alias }) => given.find((spec) => spec.alias === alias) ?? { alias },
  );
}

function checkCertificate(check: Check, spec: CertificateSpec): CertificateReport {
  const { namespace, snapshot } = check;
  const name = certificateName(check.name, spec.alias);
  const secretName = spec.secretName ?? name;
  const object = `Certificate ${namespace}/${name}`;
  const secret = checkSecret(check, spec.alias, secretName);
  if (!snapshot.certificates.ok) {
    if (snapshot.certManagerServed)
      notChecked(check, snapshot.certificates, { step: 'certificate', what: 'Certificates' });
    return { alias: spec.alias, name, state: 'not-checked', ready: null, secret };
  }
  const certificate = inNamespace(snapshot.certificates.items, namespace, name);
  if (!certificate) {
    add(check, {
      step: 'certificate',
      severity: 'critical',
      object,
      message: `Certificate "${name}" (alias ${spec.alias}) does not exist`,
      hint: "KubeDB's operator creates it from spec.tls: check that the KubeDB operator is running",
    });
    return { alias: spec.alias, name, state: 'missing', ready: false, secret };
  }
  const status = certificate.status ?? {};
  const ready = findCondition(status.conditions, 'Ready');
  const issuing = findCondition(status.conditions, 'Issuing');
  const owned = (certificate.metadata.ownerReferences ?? []).some(
    (owner) => owner.uid === check.db.metadata.uid,
  );
  const request = latestRequest(items(snapshot.certificateRequests), certificate);
  const report: CertificateReport = {
    alias: spec.alias,
    name,
    state: 'present',
    ready: ready?.status === 'True',
    ...(ready?.reason ? { readyReason: ready.reason } : {}),
    ...(ready?.message ? { readyMessage: ready.message } : {}),
    ownedByDatabase: owned,
    ...(status.revision !== undefined ? { revision: status.revision } : {}),
    ...(status.notAfter ? { notAfter: status.notAfter } : {}),
    ...(status.renewalTime ? { renewalTime: status.renewalTime } : {}),
    issuing: issuing?.status === 'True',
    ...(status.lastFailureTime ? { lastFailureTime: status.lastFailureTime } : {}),
    ...(request ? { latestRequest: request } : {}),
    secret,
  };
  if (!owned) {
    add(check, {
      step: 'certificate',
      severity: 'warning',
      object,
      message: 'the Certificate is not owned by the Singlestore',
      hint: `KubeDB did not create it, so it is not cleaned up or reconfigured with the database: kubectl get certificate ${name} -n ${namespace} -o yaml, and compare its owner with Singlestore ${namespace}/${check.name}`,
    });
  }
  const nextAttempt = nextIssuanceAttempt(certificate, check.options.now);
  if (nextAttempt) report.nextAttemptTime = nextAttempt.toISOString();
  if (ready?.status !== 'True' || (issuing?.status === 'False' && issuing.reason === 'Failed')) {
    const events = recentEvents(items(snapshot.certificateEvents), certificate);
    if (events.length) report.recentEvents = events;
    const issuerRef = certificate.spec?.issuerRef;
    const describeIssuer = issuerRef
      ? `kubectl describe ${issuerRef.kind === 'ClusterIssuer' ? 'clusterissuer' : `issuer -n ${namespace}`} ${issuerRef.name}`
      : undefined;
    const reasons = [
      ready?.status !== 'True'
        ? `not Ready${ready?.reason ? ` (${ready.reason})` : ''}: ${ready?.message ?? 'no Ready condition yet'}`
        : 'the last re-issuance failed',
      request && request.ready !== true && request.message
        ? `latest CertificateRequest ${request.name}: ${request.message}`
        : undefined,
      // Before any request exists, cert-manager's events are the only account of what it tried.
      !request && events.length ? `no CertificateRequest yet; event ${events[0]}` : undefined,
      nextAttempt
        ? `a failed attempt was made at ${status.lastFailureTime}; cert-manager will not try again before ${nextAttempt.toISOString()}`
        : undefined,
    ].filter(Boolean);
    add(check, {
      step: 'certificate',
      severity: ready?.status === 'True' ? 'warning' : 'critical',
      object,
      message: reasons.join('; '),
      hint: nextAttempt
        ? `kubectl describe certificate ${name} -n ${namespace}${describeIssuer ? ` and ${describeIssuer}` : ''}; once the failure is mended, ${check.options.commandName} tls rotate ${check.name} -n ${namespace} (it waits out the back-off)`
        : `kubectl describe certificate ${name} -n ${namespace}${describeIssuer && !request ? `; ${describeIssuer}` : ''}`,
    });
  }
  compareStatusWithSecret(check, object, certificate, secret);
  return report;
}

/** cert-manager backs off after a failed issuance: 1h, doubling per failed attempt up to 32h. */
export function nextIssuanceAttempt(certificate: Certificate, now: Date): Date | undefined {
  const issuing = findCondition(certificate.status?.conditions, 'Issuing');
  const lastFailure = certificate.status?.lastFailureTime;
  if (!lastFailure || issuing?.status === 'True') return undefined;
  const attempts = certificate.status?.failedIssuanceAttempts ?? 1;
  const hours = Math.min(2 ** Math.max(attempts - 1, 0), 32);
  const next = new Date(Date.parse(lastFailure) + hours * 3_600_000);
  return next > now ? next : undefined;
}

function latestRequest(
  requests: CertificateRequest[],
  certificate: Certificate,
): CertificateReport['latestRequest'] {
  const own = requests.filter(
    (request) =>
      request.metadata.namespace === certificate.metadata.namespace &&
      (request.metadata.ownerReferences ?? []).some(
        (owner) => owner.kind === 'Certificate' && owner.name === certificate.metadata.name,
      ),
  );
  const revisionOf = (request: CertificateRequest) =>
    Number(request.metadata.annotations?.['cert-manager.io/certificate-revision'] ?? 0);
  const latest = own.sort(
    (a, b) =>
      revisionOf(b) - revisionOf(a) ||
      byText(b.metadata.creationTimestamp ?? '', a.metadata.creationTimestamp ?? ''),
  )[0];
  if (!latest) return undefined;
  const ready = findCondition(latest.status?.conditions as Condition[] | undefined, 'Ready');
  return {
    name: latest.metadata.name,
    ready: ready ? ready.status === 'True' : null,
    ...(ready?.reason ? { reason: ready.reason } : {}),
    ...(ready?.message ? { message: ready.message } : {}),
  };
}

function recentEvents(events: KubeEvent[], certificate: Certificate): string[] {
  return events
    .filter(
      (event) =>
        event.involvedObject.namespace === certificate.metadata.namespace &&
        event.involvedObject.name === certificate.metadata.name &&
        event.type === 'Warning',
    )
    .sort((a, b) => byText(b.lastTimestamp ?? b.eventTime ?? '', a.lastTimestamp ?? a.eventTime ?? ''))
    .slice(0, 3)
    .map((event) => `${event.reason ?? 'Warning'}: ${event.message ?? ''}`.trim());
}

function checkSecret(check: Check, alias: string, secretName: string): SecretReport {
  const { namespace, snapshot, options } = check;
  const object = `Secret ${namespace}/${secretName}`;
  if (!snapshot.secrets.ok) {
    notChecked(check, snapshot.secrets, { step: 'secret', what: 'Secrets' });
    return { name: secretName, state: 'not-checked', error: snapshot.secrets.message };
  }
  const secret = snapshot.secrets.items.find(
    (item) => item.namespace === namespace && item.name === secretName,
  );
  if (!secret) {
    add(check, {
      step: 'secret',
      severity: 'critical',
      object,
      message: `Secret "${secretName}" does not exist`,
      hint: `cert-manager writes it once Certificate ${certificateName(check.name, alias)} is issued: kubectl describe certificate ${certificateName(check.name, alias)} -n ${namespace}`,
    });
    return { name: secretName, state: 'missing' };
  }
  const report: SecretReport = { name: secretName, state: 'present', type: secret.type, keys: secret.keys };
  if (secret.type !== tlsSecretType) {
    add(check, {
      step: 'secret',
      severity: 'critical',
      object,
      message: `the Secret exists, type ${secret.type || '(none)'}; KubeDB and cert-manager expect ${tlsSecretType}`,
      hint: `a Secret's type cannot be changed: save what it holds, kubectl delete secret ${secretName} -n ${namespace}, and cert-manager writes a ${tlsSecretType} one (${options.commandName} tls rotate ${check.name} -n ${namespace})`,
    });
  }
  const missingKeys = ['ca.crt', 'tls.crt', 'tls.key'].filter((key) => !secret.keys.includes(key));
  if (missingKeys.length)
    add(check, {
      step: 'secret',
      severity: 'critical',
      object,
      message: `the Secret lacks ${missingKeys.join(', ')}`,
      hint: 'KubeDB mounts ca.crt, tls.crt and tls.key; renew the Certificate to rewrite the Secret',
    });
  const { facts } = secret;
  if (!facts.certificate) {
    report.error = facts.parseError;
    if (secret.keys.includes('tls.crt'))
      add(check, {
        step: 'secret',
        severity: 'critical',
        object,
        message: facts.parseError ?? 'tls.crt holds no certificate',
        hint: 'renew the Certificate so cert-manager writes a valid one',
      });
    return report;
  }
  const cert = facts.certificate;
  const daysLeft = Math.floor((Date.parse(cert.notAfter) - options.now.getTime()) / dayMs);
  report.certificate = { ...cert, daysLeft, signedByCa: facts.signedByCa, keyMatchesCertificate: facts.key };
  checkValidity(check, object, cert.notBefore, cert.notAfter);
  const caMessages: Record<string, [Finding['severity'], string] | undefined> = {
    'not-signed': [
      'critical',
      'tls.crt is not signed by the CA in ca.crt (was the CA rotated?); clients that trust ca.crt will reject it',
    ],
    missing: ['warning', 'ca.crt is empty: clients cannot verify the certificate with this Secret'],
    unreadable: ['critical', 'ca.crt does not parse'],
  };
  const caProblem = caMessages[facts.signedByCa];
  if (caProblem)
    add(check, {
      step: 'secret',
      severity: caProblem[0],
      object,
      message: caProblem[1],
      hint: `${options.commandName} tls rotate ${check.name} -n ${namespace}`,
    });
  const keyMessages: Record<string, string | undefined> = {
    mismatch: 'tls.key does not belong to the certificate in tls.crt',
    missing: 'tls.key is empty',
    unreadable: 'tls.key does not parse as a private key',
  };
  const keyProblem = keyMessages[facts.key];
  if (keyProblem)
    add(check, {
      step: 'secret',
      severity: 'critical',
      object,
      message: keyProblem,
      hint: `${options.commandName} tls rotate ${check.name} -n ${namespace}`,
    });
  if (alias === 'server') checkServerNames(check, object, cert.dnsNames);
  return report;
}

function checkValidity(check: Check, object: string, notBefore: string, notAfter: string): void {
  const now = check.options.now.getTime();
  const left = Date.parse(notAfter) - now;
  const rotate = `${check.options.commandName} tls rotate ${check.name} -n ${check.namespace}`;
  if (left <= 0) {
    add(check, {
      step: 'secret',
      severity: 'critical',
      object,
      message: `the certificate expired ${span(-left)} ago (notAfter ${notAfter})`,
      hint: rotate,
    });
  } else if (Date.parse(notBefore) > now) {
    add(check, {
      step: 'secret',
      severity: 'critical',
      object,
      message: `the certificate is not valid yet (notBefore ${notBefore}): check clocks`,
      hint: rotate,
    });
  } else if (left < check.options.warnWithinMs) {
    add(check, {
      step: 'secret',
      severity: 'warning',
      object,
      message: `the certificate expires in ${span(left)} (notAfter ${notAfter})`,
      hint: rotate,
    });
  }
}

/** Whole days when there is at least one, else hours, else minutes. */
function span(ms: number): string {
  if (ms >= dayMs) return `${Math.floor(ms / dayMs)} day(s)`;
  if (ms >= 3_600_000) return `${Math.floor(ms / 3_600_000)} hour(s)`;
  return `${Math.max(1, Math.floor(ms / 60_000))} minute(s)`;
}

/** Clients reach the database through its Services and per-pod names: the server certificate must cover them. */
function checkServerNames(check: Check, object: string, dnsNames: string[]): void {
  const { name, namespace, db } = check;
  const [firstPetSet] = petSetNames(name, Boolean(db.spec?.topology));
  const hosts = [
    `${name}.${namespace}.svc`,
    `${firstPetSet}-0.${governingServiceName(name)}.${namespace}.svc`,
  ];
  const uncovered = hosts.filter((host) => !coversHost(dnsNames, host));
  if (uncovered.length) {
    add(check, {
      step: 'secret',
      severity: 'critical',
      object,
      message: `the server certificate does not cover ${uncovered.join(', ')}`,
      hint: "clients verifying the hostname will fail: remove custom dnsNames that replace KubeDB's, then rotate",
    });
  }
}

function compareStatusWithSecret(
  check: Check,
  object: string,
  certificate: Certificate,
  secret: SecretReport,
): void {
  const statusNotAfter = certificate.status?.notAfter;
  const secretNotAfter = secret.certificate?.notAfter;
  if (!statusNotAfter || !secretNotAfter) return;
  if (!sameNotAfter(statusNotAfter, secretNotAfter)) {
    add(check, {
      step: 'certificate',
      severity: 'warning',
      object,
      message: `cert-manager's status says notAfter ${statusNotAfter} but the Secret holds ${secretNotAfter}`,
      hint: `the Secret was changed outside cert-manager, or an issuance is under way: kubectl describe certificate ${certificate.metadata.name} -n ${check.namespace}`,
    });
  }
}

function checkPetSets(check: Check, certificates: CertificateReport[]): PetSetReport[] {
  const { namespace, snapshot, db } = check;
  const secretNames = certificates.map((certificate) => certificate.secret.name);
  const latestIssue = certificates
    .map((certificate) => certificate.secret.certificate?.notBefore)
    .filter((value): value is string => Boolean(value))
    .sort()
    .at(-1);
  return petSetNames(check.name, Boolean(db.spec?.topology)).map((petSetName) => {
    const object = `PetSet ${namespace}/${petSetName}`;
    if (!snapshot.petSets.ok) {
      notChecked(check, snapshot.petSets, { step: 'petset', what: 'PetSets' });
      return { name: petSetName, state: 'not-checked' };
    }
    const petSet = inNamespace(snapshot.petSets.items, namespace, petSetName);
    if (!petSet) {
      add(check, {
        step: 'petset',
        severity: 'critical',
        object,
        message: `PetSet "${petSetName}" does not exist`,
        hint: "KubeDB's operator creates it: check that the KubeDB operator is running",
      });
      return { name: petSetName, state: 'missing' };
    }
    const mounted = mountedSecrets(petSet);
    const unmounted = secretNames.filter((secret) => !mounted.has(secret));
    if (unmounted.length) {
      add(check, {
        step: 'petset',
        severity: 'critical',
        object,
        message: `the pod template does not mount ${unmounted.join(', ')}`,
        hint: `KubeDB adds the TLS volume when it reconciles TLS: ${check.options.commandName} tls enable ${check.name} -n ${namespace} --issuer <issuer> (a ReconfigureTLS ops request)`,
      });
    }
    const status = petSet.status ?? {};
    const replicas = petSet.spec.replicas ?? 1;
    const done = rolledOut(petSet);
    if (!done) {
      add(check, {
        step: 'petset',
        severity: 'warning',
        object,
        message: `rollout not finished: ${status.updatedReplicas ?? 0}/${replicas} updated, ${status.readyReplicas ?? 0}/${replicas} ready`,
        hint: `kubectl get pods -n ${namespace} -l app.kubernetes.io/instance=${check.name}; a rollout waiting for a pod shows why in kubectl describe pod`,
      });
    }
    const serverSerial = certificates.find((certificate) => certificate.alias === 'server')?.secret
      .certificate?.serialNumber;
    const pods = podsOf(items(snapshot.pods), petSet).map((pod) => podReport(check, pod, serverSerial));
    const stalePods = checkServedCertificates(check, { object, pods, serverSerial, latestIssue });
    return {
      name: petSetName,
      state: 'present',
      mountsTlsSecrets: unmounted.length === 0,
      replicas,
      readyReplicas: status.readyReplicas ?? 0,
      updatedReplicas: status.updatedReplicas ?? 0,
      generation: petSet.metadata.generation ?? 0,
      observedGeneration: status.observedGeneration ?? 0,
      ...(status.currentRevision ? { currentRevision: status.currentRevision } : {}),
      ...(status.updateRevision ? { updateRevision: status.updateRevision } : {}),
      rolledOut: done,
      stalePods,
      pods,
    };
  });
}

function servedCounts(pods: PodReport[]): DatabaseReport['served'] {
  // Nothing proven on the wire (probe off, forbidden, pods not running): no counts to show.
  if (!pods.some((pod) => pod.served !== 'not-probed')) return undefined;
  const count = (served: Served) => pods.filter((pod) => pod.served === served).length;
  return {
    pods: pods.length,
    current: count('current'),
    stale: count('stale'),
    noTls: count('no-tls'),
    failed: count('failed'),
    notProbed: count('not-probed'),
  };
}

/** One pod: when it started and, where the probe ran, what it serves compared with the Secret. */
function podReport(check: Check, pod: Pod, serverSerial: string | undefined): PodReport {
  const probe = check.snapshot.wire?.find(
    (result) => result.namespace === pod.metadata.namespace && result.pod === pod.metadata.name,
  );
  const startedAt = containersStarted(pod);
  let served: Served = 'not-probed';
  if (probe?.result === 'tls') {
    served = probe.served?.serialNumber === serverSerial ? 'current' : 'stale';
  } else if (probe?.result === 'no-tls') {
    served = 'no-tls';
  } else if (probe && failedResults.has(probe.result)) {
    served = 'failed';
  }
  return {
    name: pod.metadata.name,
    ...(startedAt ? { startedAt } : {}),
    served,
    ...(probe ? { probe } : {}),
  };
}

/** Probe results that say the pod cannot serve clients, as opposed to "could not look". */
const failedResults = new Set<ProbeResult>(['refused', 'handshake-failed', 'server-error', 'timeout']);

/**
 * Findings about what the pods of one PetSet serve: facts from the wire where the probe ran, the
 * start-time guess where it did not. Returns the pods that serve (or may serve) an old certificate.
 */
function checkServedCertificates(
  check: Check,
  pods: {
    object: string;
    pods: PodReport[];
    serverSerial: string | undefined;
    latestIssue: string | undefined;
  },
): string[] {
  const { name, namespace, options } = check;
  const rotate = `${options.commandName} tls rotate ${name} -n ${namespace}`;
  const { object, serverSerial, latestIssue } = pods;
  const stale = pods.pods.filter((pod) => pod.served === 'stale');
  // One finding per certificate served instead of the Secret's: usually the one before a renewal.
  for (const serial of new Set(stale.map((pod) => pod.probe?.served?.serialNumber))) {
    const serving = stale.filter((pod) => pod.probe?.served?.serialNumber === serial);
    const notAfter = serving[0]?.probe?.served?.notAfter ?? '';
    const expired = Date.parse(notAfter) <= options.now.getTime();
    add(check, {
      step: 'pods',
      severity: expired ? 'critical' : 'warning',
      object,
      message: `${serving.map((pod) => pod.name).join(', ')} serve${serving.length === 1 ? 's' : ''} serial ${serial} (notAfter ${notAfter}${expired ? ', EXPIRED' : ''}), not the Secret's ${serverSerial ?? 'certificate'}: seen on the wire`,
      hint: `${rotate} --restart-only --stale-only`,
    });
  }
  for (const pod of pods.pods) {
    const probe = pod.probe;
    if (!probe) continue;
    const served = probe.served;
    if (served && served.signedBySecretCa !== 'signed') {
      add(check, {
        step: 'pods',
        severity: 'critical',
        object: `Pod ${namespace}/${pod.name}`,
        message: `the certificate it serves (serial ${served.serialNumber}) does not chain to the Secret's ca.crt (${served.signedBySecretCa}): clients that trust ca.crt refuse it`,
        hint: pod.served === 'stale' ? `${rotate} --restart-only --stale-only` : rotate,
      });
    }
    if (served && Date.parse(served.notAfter) <= options.now.getTime() && pod.served === 'current') {
      add(check, {
        step: 'pods',
        severity: 'critical',
        object: `Pod ${namespace}/${pod.name}`,
        message: `the certificate it serves expired at ${served.notAfter}`,
        hint: rotate,
      });
    }
    if (served) {
      const hosts = [`${name}.${namespace}.svc`, probeHost(check, pod.name)];
      const uncovered = hosts.filter((host) => !coversHost(served.dnsNames, host));
      if (uncovered.length && pod.served === 'current') {
        add(check, {
          step: 'pods',
          severity: 'critical',
          object: `Pod ${namespace}/${pod.name}`,
          message: `the certificate it serves does not cover ${uncovered.join(', ')}`,
          hint: "clients verifying the hostname will fail: remove custom dnsNames that replace KubeDB's, then rotate",
        });
      }
    }
    if (probe.legacyTls === 'accepted') {
      add(check, {
        step: 'pods',
        severity: 'warning',
        object: `Pod ${namespace}/${pod.name}`,
        message: 'the server still accepts TLS 1.0/1.1, which are deprecated (RFC 8996)',
        hint: "restrict the server's tls_version to TLSv1.2,TLSv1.3",
      });
    }
    const wireMessages: Partial<Record<ProbeResult, [Finding['severity'], string, string]>> = {
      'no-tls': [
        'critical',
        'does not offer TLS on its MySQL port although spec.tls is set (it started without the certificates?)',
        `${rotate} --restart-only`,
      ],
      refused: [
        'critical',
        `refused the connection on port ${databasePort}`,
        `kubectl logs ${pod.name} -n ${namespace}`,
      ],
      'handshake-failed': [
        'critical',
        'the TLS handshake failed',
        `kubectl logs ${pod.name} -n ${namespace}`,
      ],
      'server-error': [
        'critical',
        'answered with an error instead of a greeting',
        `kubectl logs ${pod.name} -n ${namespace}`,
      ],
      timeout: [
        'critical',
        'did not answer in time',
        `check the pod (kubectl describe pod ${pod.name} -n ${namespace}), or raise --probe-timeout`,
      ],
      error: ['warning', 'could not be probed', 'run again with -v 6 to see the port-forward request'],
    };
    const wire = wireMessages[probe.result];
    if (wire) {
      add(check, {
        step: 'pods',
        severity: wire[0],
        object: `Pod ${namespace}/${pod.name}`,
        message: `${wire[1]}: ${probe.message ?? ''}`.replace(/: $/, ''),
        hint: wire[2],
      });
    }
  }
  const notProbed = pods.pods.filter(
    (pod) => pod.probe && ['forbidden', 'not-running'].includes(pod.probe.result),
  );
  for (const pod of notProbed) {
    add(check, {
      step: 'pods',
      severity: 'info',
      object: `Pod ${namespace}/${pod.name}`,
      message: `not probed: ${pod.probe?.result === 'forbidden' ? 'forbidden (pods/portforward; see the probe role in docs/rbac.yaml)' : pod.probe?.message}`,
    });
  }
  // Where the wire could not be read, the start time is the best evidence there is.
  const guessed = latestIssue
    ? pods.pods.filter((pod) =>
        pod.served === 'not-probed' || pod.served === 'failed'
          ? pod.startedAt !== undefined && Date.parse(pod.startedAt) < Date.parse(latestIssue)
          : false,
      )
    : [];
  if (guessed.length) {
    const why = guessed.some((pod) => pod.probe)
      ? ' (not proven on the wire: the probe could not read it)'
      : '';
    add(check, {
      step: 'pods',
      severity: 'warning',
      object,
      message: `${guessed.map((pod) => pod.name).join(', ')} started before the current certificate was issued (${latestIssue}) and may serve the old one${why}`,
      hint: `${rotate} --restart-only`,
    });
  }
  return [...stale, ...guessed].map((pod) => pod.name);
}

/** The pod's own DNS name under the database's governing Service. */
function probeHost(check: Check, pod: string): string {
  return `${pod}.${governingServiceName(check.name)}.${check.namespace}.svc`;
}

/**
 * A pod loads its certificates when its containers start (after the Secret volume is mounted), so
 * compare the earliest container start, falling back to the pod's start time.
 */
function containersStarted(pod: Pod): string | undefined {
  const starts = (pod.status?.containerStatuses ?? [])
    .map((container) => container.state?.running?.startedAt)
    .filter((at): at is string => Boolean(at));
  return starts.sort()[0] ?? pod.status?.startTime;
}

function podsOf(pods: Pod[], petSet: PetSet): Pod[] {
  return pods.filter(
    (pod) =>
      pod.metadata.namespace === petSet.metadata.namespace &&
      ((pod.metadata.ownerReferences ?? []).some(
        (owner) => owner.kind === 'PetSet' && owner.name === petSet.metadata.name,
      ) ||
        new RegExp(`^${petSet.metadata.name}-\\d+$`).test(pod.metadata.name)),
  );
}

function opsRequestsOf(check: Check): OpsRequestReport[] {
  return items(check.snapshot.opsRequests)
    .filter(
      (request: OpsRequest) =>
        request.metadata.namespace === check.namespace && request.spec.databaseRef?.name === check.name,
    )
    .filter((request) => request.spec.type === 'ReconfigureTLS' || request.spec.type === 'Restart')
    .sort((a, b) => byText(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? ''))
    .map((request) => {
      const conditions = request.status?.conditions ?? [];
      const message = [...conditions].reverse().find((condition) => condition.message)?.message;
      return {
        name: request.metadata.name,
        type: request.spec.type,
        phase: request.status?.phase ?? 'Pending',
        ...(request.metadata.creationTimestamp ? { created: request.metadata.creationTimestamp } : {}),
        ...(message ? { message } : {}),
      };
    });
}

function checkOpsRequests(check: Check, requests: OpsRequestReport[]): void {
  for (const request of requests) {
    const object = `SinglestoreOpsRequest ${check.namespace}/${request.name}`;
    if (['Pending', 'Progressing', 'WaitingForApproval', 'Approved'].includes(request.phase)) {
      add(check, {
        step: 'ops-request',
        severity: 'info',
        object,
        message: `${request.type} is ${request.phase}`,
      });
    }
  }
  const last = requests.at(-1);
  if (last?.phase === 'Failed') {
    add(check, {
      step: 'ops-request',
      severity: 'warning',
      object: `SinglestoreOpsRequest ${check.namespace}/${last.name}`,
      message: `the latest ${last.type} request failed${last.message ? `: ${last.message}` : ''}`,
      hint: `kubectl describe singlestoreopsrequest ${last.name} -n ${check.namespace}`,
    });
  }
}
