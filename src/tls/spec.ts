/**
 * The `spec.tls` a user asks for, built from flags, and how it compares with what a Singlestore has:
 * the same (nothing to do), or different (a reconfiguration, shown as a diff).
 */
import yaml from 'js-yaml';
import type { CertificateSpec, IssuerRef, TlsConfig } from '../kubedb/types.ts';
import { byText } from '../util/compare.ts';

export interface TlsSettings {
  issuer: string;
  clusterIssuer: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  organizations: string[];
  duration?: string;
  privateKeyEncoding?: 'PKCS1' | 'PKCS8';
}

export function desiredTls(settings: TlsSettings): TlsConfig {
  const issuerRef: IssuerRef = {
    apiGroup: 'cert-manager.io',
    kind: settings.clusterIssuer ? 'ClusterIssuer' : 'Issuer',
    name: settings.issuer,
  };
  const common: Partial<CertificateSpec> = {
    ...(settings.organizations.length ? { subject: { organizations: settings.organizations } } : {}),
    ...(settings.duration ? { duration: settings.duration } : {}),
    ...(settings.privateKeyEncoding ? { privateKey: { encoding: settings.privateKeyEncoding } } : {}),
  };
  const server: CertificateSpec = {
    alias: 'server',
    ...common,
    ...(settings.dnsNames.length ? { dnsNames: settings.dnsNames } : {}),
    ...(settings.ipAddresses.length ? { ipAddresses: settings.ipAddresses } : {}),
  };
  const client: CertificateSpec = { alias: 'client', ...common };
  const certificates = [server, client].filter((spec) => Object.keys(spec).length > 1);
  return { issuerRef, ...(certificates.length ? { certificates } : {}) };
}

/** Whether certificate settings were given at all; without them, existing ones are not compared. */
export function hasCertificateSettings(tls: TlsConfig): boolean {
  return Boolean(tls.certificates?.length);
}

function normalIssuer(ref: IssuerRef | undefined): IssuerRef | undefined {
  if (!ref) return undefined;
  return { apiGroup: ref.apiGroup ?? 'cert-manager.io', kind: ref.kind ?? 'Issuer', name: ref.name };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => byText(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Same issuer, and (when the desired spec names any) the same certificate settings. */
export function sameTls(current: TlsConfig | undefined, desired: TlsConfig): boolean {
  if (!current?.issuerRef) return false;
  if (canonical(normalIssuer(current.issuerRef)) !== canonical(normalIssuer(desired.issuerRef))) return false;
  if (!hasCertificateSettings(desired)) return true;
  const byAlias = (tls: TlsConfig) => [...(tls.certificates ?? [])].sort((a, b) => byText(a.alias, b.alias));
  return canonical(byAlias(current)) === canonical(byAlias(desired));
}

/** A line diff of two spec.tls values as YAML, `-` old and `+` new. */
export function tlsDiff(current: TlsConfig | undefined, desired: TlsConfig): string {
  const render = (tls: TlsConfig | undefined) =>
    tls ? yaml.dump({ tls }, { lineWidth: -1 }).trimEnd().split('\n') : ['tls: null'];
  const before = render(current);
  const after = render(desired);
  const lines: string[] = [];
  for (const line of before) if (!after.includes(line)) lines.push(`- ${line}`);
  for (const line of after) lines.push(`${before.includes(line) ? ' ' : '+'} ${line}`);
  return lines.join('\n');
}
