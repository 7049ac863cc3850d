/**
 * `-v N` request logging, in kubectl's spirit (round_trippers.go) but safe at every level:
 *   6: method, URL, status, latency
 *   7: + request headers (Authorization masked)
 *   8: + response bodies, with Secret data and tokens replaced by "<redacted>"
 * Nothing here ever prints a bearer token or a Secret's data.
 */
export type Writer = (text: string) => void;

export interface RequestLog {
  readonly verbosity: number;
  line(text: string): void;
}

export function createRequestLog(verbosity: number, write: Writer): RequestLog {
  return { verbosity, line: (text) => write(`${text}\n`) };
}

export const silentLog: RequestLog = { verbosity: 0, line: () => {} };

export function maskHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const masked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    masked[name] = /^(authorization|proxy-authorization|cookie)$/i.test(name)
      ? maskAuthorization(value)
      : value;
  }
  return masked;
}

function maskAuthorization(value: unknown): string {
  const text = String(value);
  const scheme = /^(\w+)\s/.exec(text)?.[1];
  return scheme ? `${scheme} <masked>` : '<masked>';
}

const secretKinds = new Set(['Secret', 'SecretList']);
const sensitiveFields = new Set(['data', 'stringData']);
/** kubectl apply copies a Secret's data into this annotation. */
const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** Redact a JSON body for logging: Secret data, token fields, and any PEM private key. */
export function redactBody(body: string, maxLength = 4096): string {
  let text = body;
  try {
    const parsed: unknown = JSON.parse(body);
    text = JSON.stringify(redactValue(parsed, false));
  } catch {
    // Not JSON: fall through to the PEM scrub.
  }
  text = text.replace(
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
    '<redacted>',
  );
  return text.length > maxLength
    ? `${text.slice(0, maxLength)} [truncated ${text.length - maxLength} chars]`
    : text;
}

function redactValue(value: unknown, inSecret: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => redactValue(item, inSecret));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const isSecret = inSecret || secretKinds.has(String(record.kind));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(record)) {
    const secretField = isSecret && (sensitiveFields.has(key) || key === lastAppliedAnnotation);
    if (secretField || /^(token|password|client-key-data)$/i.test(key)) {
      out[key] = '<redacted>';
    } else {
      out[key] = redactValue(child, isSecret);
    }
  }
  return out;
}
