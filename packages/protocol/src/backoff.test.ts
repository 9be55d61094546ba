import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, backoffDelay } from './backoff.js';

test('the ceiling grows by factor from minDelayMs and stops at maxDelayMs', () => {
  const b = new Backoff({ minDelayMs: 100, maxDelayMs: 1_000, factor: 3, jitter: 0 });
  assert.deepEqual(
    Array.from({ length: 6 }, () => b.next()),
    [100, 300, 900, 1_000, 1_000, 1_000],
  );
  assert.equal(b.attempt, 6);
  b.reset();
  assert.equal(b.next(), 100);
  assert.equal(new Backoff({ minDelayMs: 0, factor: 10 }).ceiling(10_000), 0, 'no NaN from 0 × ∞');
  assert.equal(new Backoff({ minDelayMs: 1, maxDelayMs: 50, factor: 1e300 }).ceiling(3), 50);
});

test('jitter bounds: full jitter is uniform in [0, ceiling]; partial jitter keeps a floor', () => {
  const extremes = (jitter: number, random: number) =>
    new Backoff({ minDelayMs: 200, maxDelayMs: 200, jitter }, () => random).next();
  assert.equal(extremes(1, 0), 200);
  assert.equal(extremes(1, 0.999999), 0);
  assert.equal(extremes(0.25, 0.999999), 150);
  assert.equal(extremes(0.25, 0), 200);

  const full = new Backoff({ minDelayMs: 10, maxDelayMs: 640, factor: 2 });
  const samples = Array.from({ length: 2_000 }, () => {
    const ceiling = full.ceiling(full.attempt);
    const delay = full.next();
    assert.ok(delay >= 0 && delay <= ceiling, `${delay} within [0, ${ceiling}]`);
    if (full.attempt > 10) full.reset();
    return delay / ceiling;
  });
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  assert.ok(mean > 0.4 && mean < 0.6, `spread across the range, mean ${mean.toFixed(3)}`);
  assert.ok(new Set(samples.map((s) => Math.min(9, Math.floor(s * 10)))).size === 10, 'all deciles used');
});

test('invalid options are refused early', () => {
  assert.throws(() => new Backoff({ minDelayMs: 10, maxDelayMs: 5 }), RangeError);
  assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
  assert.throws(() => new Backoff({ minDelayMs: Number.NaN }), RangeError);
  assert.equal(new Backoff({ jitter: 7 }).options.jitter, 1);
});

test('backoffDelay is the same function without the counter, for callers that count attempts', () => {
  const options = { minDelayMs: 100, maxDelayMs: 5_000, factor: 2, jitter: 1 };
  assert.deepEqual(
    [0, 1, 2, 10].map((attempt) => backoffDelay(attempt, options, () => 0)),
    [100, 200, 400, 5_000],
  );
  assert.equal(
    backoffDelay(3, options, () => 0.5),
    400,
  );
  assert.equal(
    backoffDelay(-1, options, () => 0),
    100,
    'a negative attempt is the first',
  );
  assert.equal(
    backoffDelay(2, { ...options, jitter: 9 }, () => 0.999999),
    0,
    'jitter is clamped to 1',
  );
});
