/** Pure validation of flag and argument values; each failure is a usage error naming the flag. */
import { UsageError } from '../errors.ts';
import { parseGoDuration } from '../util/duration.ts';

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validateObjectName(name: string, what = 'name'): string {
  if (name.length > 253 || !dns1123Subdomain.test(name)) {
    throw new UsageError(
      `invalid ${what} "${name}": must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (RFC 1123)`,
    );
  }
  return name;
}

/** A Go duration ("720h", "90m"), or a whole number of days ("30d") for convenience. */
export function parseDurationFlag(flag: string, value: string): number {
  const days = /^(\d+)d$/.exec(value.trim());
  if (days) return Number(days[1]) * 86_400_000;
  try {
    const ms = parseGoDuration(value);
    if (ms < 0) throw new Error(`negative duration "${value}"`);
    return ms;
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
}

/** The probe settings from --probe and --probe-timeout; undefined when the probe is off. */
export function probeSetting(
  argv: Record<string, unknown>,
  onByDefault: boolean,
): { timeoutMs: number } | undefined {
  const on = typeof argv.probe === 'boolean' ? argv.probe : onByDefault;
  const timeoutMs = parseDurationFlag('probe-timeout', String(argv['probe-timeout'] ?? '5s'));
  if (timeoutMs <= 0) throw new UsageError('--probe-timeout: must be more than 0');
  return on ? { timeoutMs } : undefined;
}

/** A certificate lifetime: a Go duration of at least 1h (cert-manager's minimum). */
export function validateCertificateDuration(flag: string, value: string): string {
  let ms: number;
  try {
    ms = parseGoDuration(value);
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
  if (ms < 3_600_000)
    throw new UsageError(`--${flag}: ${value} is too short; cert-manager requires at least 1h`);
  return value;
}

/**
 * SingleStore's CREATE USER: "Non-JWT users: Maximum length of 32 characters"
 * (https://docs.singlestore.com/db/v9.0/reference/sql-reference/security-management-commands/create-user/).
 * The characters are narrowed to those that need no escaping in a SQL string, a shell word or the
 * OpenSSL one-line subject (`/O=acme/CN=app`, "/" between fields, same page, REQUIRE SUBJECT) that
 * REQUIRE SUBJECT compares: letters, digits, `_`, `-` and `.`.
 */
export const maxUserLength = 32;
const userPattern = /^[A-Za-z0-9_.-]+$/;
/** Organizations go into the same one-line subject: no "/", "=", quotes or backslashes. */
const organizationPattern = /^[A-Za-z0-9 _.,:()&+-]+$/;

export function validateUser(user: string): string {
  if (user.length === 0 || user.length > maxUserLength || !userPattern.test(user)) {
    throw new UsageError(
      `invalid database user "${user}": 1 to ${maxUserLength} characters (SingleStore's limit), letters, digits, '_', '-' and '.'`,
    );
  }
  return user;
}

export function validateOrganization(organization: string): string {
  if (!organizationPattern.test(organization) || organization.trim() !== organization) {
    throw new UsageError(
      `--subject-organization: "${organization}" may hold letters, digits, spaces and _ . , : ( ) & + - only (no "/" or "=", which the subject string REQUIRE SUBJECT compares uses as separators)`,
    );
  }
  return organization;
}
