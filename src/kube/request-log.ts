/**
 * `-v N` request logging, in kubectl's spirit (round_trippers.go) but safe at every level:
 *   6: method, URL, status, latency
 *   7: + request headers (Authorization masked)
 *   8: + response bodies, with Secret data, env values and tokens replaced by "<redacted>" (redactBody)
 * Nothing here ever prints a bearer token, a Secret's data or a literal env value, at any level.
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
/** kubectl apply copies an object's whole spec here: a Secret's data, a pod's env values. */
const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
/** String fields that hold credentials, whatever the object: TokenRequest, OIDC, kubeconfigs. */
const credentialKey = /(token|password|passwd|secret|client-key-data)$/i;
const redacted = '<redacted>';

/**
 * Redact a response body for logging, at any verbosity: Secret data, the last-applied annotation,
 * literal env values (a pod's `env[].value` is often a password), credential-named string fields, any
 * bearer token and any PEM private key. A body that is not JSON keeps only the text scrubs.
 */
export function redactBody(body: string, maxLength = 4096): string {
  let text = body;
  try {
    const parsed: unknown = JSON.parse(body);
    text = JSON.stringify(redactValue(parsed, false));
  } catch {
    // Not JSON: fall through to the text scrubs.
  }
  text = text
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, redacted)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${redacted}`);
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
    const secretField = isSecret && sensitiveFields.has(key);
    const credential = typeof child === 'string' && credentialKey.test(key);
    if (secretField || credential || key === lastAppliedAnnotation) {
      out[key] = redacted;
    } else if (key === 'env' && Array.isArray(child)) {
      out[key] = child.map((variable) =>
        variable && typeof variable === 'object' && 'value' in variable
          ? { ...(redactValue(variable, isSecret) as object), value: redacted }
          : redactValue(variable, isSecret),
      );
    } else {
      out[key] = redactValue(child, isSecret);
    }
  }
  return out;
}
