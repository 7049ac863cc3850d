/**
 * Render: the report as text. A table for many databases (kubectl's look: capital headers, columns
 * three spaces apart), `-o wide` with more columns, a sectioned view for one database (like cmctl's
 * `status certificate`), and the versioned JSON/YAML report.
 */
import { type DataFormat, renderData } from '../output/formats.ts';
import { formatTable } from '../output/table.ts';
import type { DatabaseReport, Finding, PodReport, StatusReport } from './report.ts';

export type StatusFormat = 'table' | 'wide' | 'detail' | DataFormat;

export const renderers: Record<StatusFormat, (report: StatusReport) => string> = {
  table: (report) => renderTable(report, false),
  wide: (report) => renderTable(report, true),
  detail: renderDetail,
  json: (report) => renderData(report, 'json'),
  yaml: (report) => renderData(report, 'yaml'),
};

function renderTable(report: StatusReport, wide: boolean): string {
  const { headers, rows, scopeLines } = tableOf(report, wide);
  return scopeLines.join('') + (rows.length ? formatTable(headers, rows) : '');
}

/** One result of `--contexts`: its report, or why the context could not be checked. */
export interface ContextTableEntry {
  context: string;
  report?: StatusReport;
  /** "unreachable: ...", "forbidden: ..." */
  error?: string;
}

/**
 * Many contexts, one table: a CONTEXT column first; a context that could not be checked is one row
 * with ERROR in STATUS and why in FINDING. Scope problems of a context are rows of their own too.
 */
export function renderContextsTable(
  entries: ContextTableEntry[],
  wide: boolean,
  allNamespaces: boolean,
): string {
  const databaseHeaders = tableHeaders(allNamespaces, wide);
  const headers = ['CONTEXT', ...databaseHeaders];
  const placeholder = (status: string, finding: string) => [
    ...databaseHeaders.slice(0, -2).map((_, column) => (column === 0 ? '-' : '')),
    status,
    finding,
  ];
  const rows = entries.flatMap((entry) => {
    if (!entry.report) return [[entry.context, ...placeholder('ERROR', entry.error ?? 'unknown error')]];
    // The columns of the whole table, whatever scope each context's report had.
    const { rows: databaseRows } = tableOf(entry.report, wide, allNamespaces);
    const scopeRows = entry.report.findings.map((finding) =>
      placeholder(finding.severity.toUpperCase(), finding.message),
    );
    const all = [...scopeRows, ...databaseRows];
    return all.length
      ? all.map((row) => [entry.context, ...row])
      : [[entry.context, ...placeholder('OK', 'no Singlestore databases')]];
  });
  return formatTable(headers, rows);
}

function tableHeaders(allNamespaces: boolean, wide: boolean): string[] {
  return [
    ...(allNamespaces ? ['NAMESPACE'] : []),
    'NAME',
    'TLS',
    'ISSUER',
    'CERTS',
    'EXPIRES',
    'ROLLOUT',
    'SERVED',
    ...(wide ? ['PHASE', 'PODS', 'STALE-PODS', 'LAST-OPS'] : []),
    'STATUS',
    'FINDING',
  ];
}

function tableOf(
  report: StatusReport,
  wide: boolean,
  allNamespaces = report.scope.allNamespaces,
): { headers: string[]; rows: string[][]; scopeLines: string[] } {
  const headers = tableHeaders(allNamespaces, wide);
  const rows = report.databases.map((db) => [
    ...(allNamespaces ? [db.namespace] : []),
    db.name,
    db.tls.enabled ? 'enabled' : 'disabled',
    issuerCell(db),
    certificatesCell(db),
    expiryCell(db),
    rolloutCell(db),
    servedCell(db),
    ...(wide
      ? [
          db.phase,
          podsCell(db),
          String(db.petSets.reduce((sum, p) => sum + (p.stalePods?.length ?? 0), 0)),
          lastOpsCell(db),
        ]
      : []),
    db.health,
    firstFinding(db.findings),
  ]);
  const scopeLines = report.findings.map(
    (finding) =>
      `${finding.severity.toUpperCase()}: ${finding.message}${finding.hint ? ` (${finding.hint})` : ''}\n`,
  );
  return { headers, rows, scopeLines };
}

function issuerCell(db: DatabaseReport): string {
  const issuer = db.tls.issuer;
  const ref = db.tls.issuerRef;
  if (!issuer)
    return ref ? `${ref.apiGroup ?? 'cert-manager.io'}/${ref.kind ?? 'Issuer'} ${ref.name} (invalid)` : '-';
  const state =
    issuer.found === null ? 'unknown' : !issuer.found ? 'missing' : issuer.ready ? 'Ready' : 'NotReady';
  return `${issuer.kind === 'ClusterIssuer' ? 'clusterissuer/' : ''}${issuer.name} (${state})`;
}

function certificatesCell(db: DatabaseReport): string {
  if (!db.tls.enabled) return '-';
  if (db.certificates.every((certificate) => certificate.state === 'not-checked')) return '?';
  return `${db.certificates.filter((certificate) => certificate.ready).length}/${db.certificates.length}`;
}

function expiryCell(db: DatabaseReport): string {
  if (!db.earliestExpiry) return db.tls.enabled ? '?' : '-';
  const days = db.earliestExpiry.daysLeft;
  return days < 0 ? 'expired' : `${days}d`;
}

function rolloutCell(db: DatabaseReport): string {
  if (db.petSets.length === 0) return '-';
  if (db.petSets.some((petSet) => petSet.state === 'missing')) return 'missing';
  if (db.petSets.some((petSet) => petSet.state === 'not-checked')) return '?';
  return db.petSets.every((petSet) => petSet.rolledOut) ? 'done' : 'in progress';
}

/** "3/3 current", "1/3 stale", "0/3 failed", or "-" where no pod was probed. */
export function servedCell(db: DatabaseReport): string {
  const served = db.served;
  if (!served) return '-';
  if (served.stale) return `${served.stale}/${served.pods} stale`;
  if (served.failed || served.noTls) {
    const bad = served.failed + served.noTls;
    return `${bad}/${served.pods} ${served.noTls && !served.failed ? 'no-tls' : 'failed'}`;
  }
  return `${served.current}/${served.pods} current`;
}

function podsCell(db: DatabaseReport): string {
  if (db.petSets.length === 0) return '-';
  const ready = db.petSets.reduce((sum, petSet) => sum + (petSet.readyReplicas ?? 0), 0);
  const total = db.petSets.reduce((sum, petSet) => sum + (petSet.replicas ?? 0), 0);
  return `${ready}/${total}`;
}

function lastOpsCell(db: DatabaseReport): string {
  const last = db.opsRequests.at(-1);
  return last ? `${last.type}/${last.phase}` : '-';
}

function firstFinding(findings: Finding[]): string {
  const first = findings.find((finding) => finding.severity !== 'info') ?? findings[0];
  return first ? first.message : '-';
}

function notCheckedText(error: string | undefined): string {
  return error && /forbidden/.test(error)
    ? 'not checked: forbidden'
    : `not checked: ${error ?? 'unreadable'}`;
}

/** What one pod serves, in a line: the wire's verdict, or why there is none. */
function podLine(pod: PodReport): string {
  const probe = pod.probe;
  const started = pod.startedAt ? `started ${pod.startedAt}` : 'start time unknown';
  if (!probe) return `${started}; not probed (--probe=false)`;
  if (probe.result !== 'tls') {
    const label = pod.served === 'not-probed' ? 'not probed' : probe.result.toUpperCase();
    return `${label}: ${probe.message ?? probe.result}; ${started}`;
  }
  const served = probe.served;
  const what = served
    ? `serial ${served.serialNumber}, notAfter ${served.notAfter}${served.signedBySecretCa === 'signed' ? '' : `, ca.crt: ${served.signedBySecretCa}`}`
    : 'no certificate';
  const client = probe.clientCertificate;
  const clientText = !client
    ? ''
    : client.requested === null
      ? ', client certificate request not visible (TLS 1.3 only)'
      : client.requested
        ? `, asks for a client certificate${client.presented ? ' (ours accepted at the TLS layer; login not attempted)' : ''}`
        : ', asks for no client certificate';
  const legacy = probe.legacyTls === 'accepted' ? ', ACCEPTS TLS 1.0/1.1' : '';
  return `${pod.served.toUpperCase()} ${what}; ${probe.protocol} ${probe.cipher}${clientText}${legacy}`;
}

function renderDetail(report: StatusReport): string {
  const lines: string[] = [];
  for (const finding of report.findings) lines.push(`${finding.severity.toUpperCase()}: ${finding.message}`);
  for (const db of report.databases) lines.push(...databaseDetail(db), '');
  return `${lines.join('\n').trimEnd()}\n`;
}

/**
 * The story first (a 24-line terminal, a pager): the verdict, then the numbered findings with their
 * fixes, then the detail they were drawn from.
 */
function databaseDetail(db: DatabaseReport): string[] {
  const counted = (['critical', 'warning', 'info'] as const)
    .map(
      (severity) =>
        [severity, db.findings.filter((finding) => finding.severity === severity).length] as const,
    )
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`);
  const lines = [
    `Singlestore ${db.namespace}/${db.name}: ${db.health}${counted.length ? ` (${counted.join(', ')})` : ''}`,
    '',
    'Findings:',
  ];
  if (db.findings.length === 0) lines.push('  none: every step of the TLS path checks out');
  db.findings.forEach((finding, index) => {
    lines.push(
      `  ${index + 1}. ${finding.severity.toUpperCase()} [${finding.step}] ${finding.object}: ${finding.message}`,
    );
    if (finding.hint) lines.push(`     fix: ${finding.hint}`);
  });
  lines.push('', 'Detail:', `  Phase:   ${db.phase}`);
  lines.push(`  TLS:     ${db.tls.enabled ? `enabled, issuer ${issuerCell(db)}` : 'disabled'}`);
  const ca = db.tls.issuer?.ca;
  if (ca?.checked) {
    const signer = ca.signer;
    lines.push(
      `  CA:      ${signer?.subject} (serial ${signer?.serialNumber}, notAfter ${signer?.notAfter}${ca.intermediate ? `, intermediate under ${ca.root?.subject}` : ''}), from ${ca.source === 'file' ? '--ca-file' : `Secret ${ca.secret}`}`,
    );
  } else if (ca) {
    lines.push(`  CA:      not checked: ${ca.reason}`);
  }
  if (db.earliestExpiry)
    lines.push(`  Expires: ${db.earliestExpiry.notAfter} (${db.earliestExpiry.daysLeft} days left)`);
  if (db.certificates.length) {
    lines.push('', 'Certificates:');
    for (const certificate of db.certificates) {
      const state =
        certificate.state === 'present'
          ? `${certificate.ready ? 'Ready' : `not Ready${certificate.readyReason ? ` (${certificate.readyReason})` : ''}`}${certificate.revision !== undefined ? `, revision ${certificate.revision}` : ''}${certificate.issuing ? ', issuing' : ''}`
          : certificate.state;
      lines.push(`  ${certificate.alias}: Certificate ${certificate.name}, ${state}`);
      if (certificate.latestRequest && certificate.latestRequest.ready !== true) {
        lines.push(
          `    Request ${certificate.latestRequest.name}: ${certificate.latestRequest.reason ?? 'pending'} ${certificate.latestRequest.message ?? ''}`.trimEnd(),
        );
      }
      if (certificate.nextAttemptTime)
        lines.push(`    Next issuance attempt: ${certificate.nextAttemptTime} (back-off after a failure)`);
      for (const event of certificate.recentEvents ?? []) lines.push(`    Event: ${event}`);
      const secret = certificate.secret;
      if (secret.state !== 'present') {
        lines.push(
          `    Secret ${secret.name}: ${secret.state === 'missing' ? 'missing' : notCheckedText(secret.error)}`,
        );
        continue;
      }
      const type = secret.type && secret.type !== 'kubernetes.io/tls' ? ` (type ${secret.type})` : '';
      lines.push(`    Secret ${secret.name}${type}: ${(secret.keys ?? []).join(', ') || 'no data'}`);
      const x509 = secret.certificate;
      if (!x509) {
        lines.push(`      ${secret.error ?? 'no certificate'}`);
        continue;
      }
      lines.push(
        `      Subject:   ${x509.subject}`,
        `      Issuer:    ${x509.issuer}`,
        `      Serial:    ${x509.serialNumber}`,
        `      Valid:     ${x509.notBefore} to ${x509.notAfter} (${x509.daysLeft} days left)`,
      );
      if (x509.dnsNames.length) lines.push(`      DNS names: ${x509.dnsNames.join(', ')}`);
      if (x509.ipAddresses.length) lines.push(`      IPs:       ${x509.ipAddresses.join(', ')}`);
      const issuerCa =
        x509.signedByIssuerCa === undefined
          ? ''
          : x509.signedByIssuerCa === 'signed'
            ? `; signed by the issuer's current CA${x509.caCrtIsIssuerRoot === false ? ' (ca.crt is an older root)' : ''}`
            : "; NOT signed by the issuer's current CA";
      lines.push(
        `      Chain:     ${x509.signedByCa === 'signed' ? 'signed by ca.crt' : `ca.crt: ${x509.signedByCa}`}${issuerCa}; key ${x509.keyMatchesCertificate}`,
      );
    }
  }
  lines.push(...clientCertificateLines(db));
  if (db.petSets.length) {
    lines.push('', 'PetSets:');
    for (const petSet of db.petSets) {
      if (petSet.state !== 'present') {
        lines.push(
          `  ${petSet.name}: ${petSet.state === 'missing' ? 'missing' : notCheckedText('forbidden')}`,
        );
        continue;
      }
      lines.push(
        `  ${petSet.name}: ${petSet.readyReplicas}/${petSet.replicas} ready, ${petSet.updatedReplicas}/${petSet.replicas} updated, rollout ${petSet.rolledOut ? 'done' : 'in progress'}, ${petSet.mountsTlsSecrets ? 'mounts the TLS Secrets' : 'does NOT mount the TLS Secrets'}`,
      );
      for (const pod of petSet.pods ?? []) lines.push(`    ${pod.name}: ${podLine(pod)}`);
    }
  }
  if (db.opsRequests.length) {
    lines.push('', 'Ops requests:');
    for (const request of db.opsRequests)
      lines.push(
        `  ${request.name}: ${request.type} ${request.phase}${request.message ? ` (${request.message})` : ''}`,
      );
  }
  return lines;
}

/** The client certificates made with `tls client-cert`: user, expiry, health of the Secret. */
function clientCertificateLines(db: DatabaseReport): string[] {
  if (!db.clientCertificates?.length) return [];
  const lines = ['', 'Client certificates (tls client-cert):'];
  for (const client of db.clientCertificates) {
    const x509 = client.secret.certificate;
    const state = client.ready === null ? 'Ready unknown' : client.ready ? 'Ready' : 'not Ready';
    const detail = x509
      ? `${x509.subject}, expires ${x509.notAfter} (${x509.daysLeft} days left), ${x509.signedByCa === 'signed' ? 'signed by ca.crt' : `ca.crt: ${x509.signedByCa}`}, key ${x509.keyMatchesCertificate}`
      : client.secret.state === 'present'
        ? (client.secret.error ?? 'no certificate')
        : `Secret ${client.secret.state === 'missing' ? 'missing' : notCheckedText(client.secret.error)}`;
    lines.push(`  user ${client.user}: Certificate ${client.name}, ${state}; ${detail}`);
  }
  return lines;
}
