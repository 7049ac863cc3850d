/**
 * Go's time.ParseDuration, which kubectl, cert-manager and KubeDB all use for durations
 * ("90s", "1h30m", "2160h", "1.5h"). Returns milliseconds; throws on anything Go would reject.
 */
const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  // U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU, both accepted by Go (escaped in the
  // patterns below: the bundle stays ASCII, which the single executable reads as Latin-1).
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export function parseGoDuration(text: string): number {
  const input = text.trim();
  if (input === '0') return 0;
  const match = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/.exec(input);
  if (!match) throw new Error(`invalid duration "${text}" (use Go's format, e.g. 30s, 10m, 2160h)`);
  let total = 0;
  for (const part of input.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (unitMs[part[2] as string] as number);
  }
  return match[1] === '-' ? -total : total;
}

/** kubectl's --request-timeout: a Go duration, or a bare number of seconds; "0" means none. */
export function parseRequestTimeout(text: string): number {
  if (/^\d+$/.test(text.trim())) return Number(text) * 1000;
  return parseGoDuration(text);
}

/** A short human form for elapsed times and durations: "850ms", "12s", "3m4s", "2h0m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
