import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseGoDuration, parseRequestTimeout } from '../../src/util/duration.ts';

test('parseGoDuration accepts what Go accepts', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['2160h', 2160 * 3_600_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['-1m', -60_000],
    // Microseconds: "us", U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU, as Go's unitMap.
    ['1500us', 1.5],
    ['1500\u00b5s', 1.5],
    ['1500\u03bcs', 1.5],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
});

test('parseGoDuration rejects what Go rejects', () => {
  for (const text of ['', '10', '1d', 'h', '1h 30m', 'abc', '30 days']) {
    assert.throws(() => parseGoDuration(text), /invalid duration/, text);
  }
});

test('--request-timeout also takes bare seconds, like kubectl', () => {
  assert.equal(parseRequestTimeout('5'), 5000);
  assert.equal(parseRequestTimeout('2m'), 120_000);
  assert.equal(parseRequestTimeout('0'), 0);
});

test('formatDuration is short and human', () => {
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(12_400), '12s');
  assert.equal(formatDuration(184_000), '3m4s');
  assert.equal(formatDuration(7_260_000), '2h1m');
});
