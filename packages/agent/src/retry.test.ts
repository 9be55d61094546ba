import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentwireError } from '@agentwire/protocol';
import { HttpStatusError, parseRetryAfter } from './http-publisher.js';
import { defaultRetryPolicy, reconnectDelay, retryDelay, type RetryPolicy } from './retry.js';

const policy: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 10_000 };
const unavailable = new AgentwireError('unavailable');

test('backoff doubles per attempt with full jitter in [0, cap], capped at maxDelayMs', () => {
  const caps = [100, 200, 400, 800];
  caps.forEach((cap, i) => {
    assert.equal(
      retryDelay(i + 1, unavailable, policy, () => 0),
      cap,
    );
    assert.equal(
      retryDelay(i + 1, unavailable, policy, () => 0.999999),
      0,
    );
    assert.equal(
      retryDelay(i + 1, unavailable, policy, () => 0.5),
      cap / 2,
    );
  });
  assert.equal(
    retryDelay(4, unavailable, { ...policy, maxDelayMs: 300 }, () => 0),
    300,
  );
});

test('reconnections use the same backoff: doubling from minDelayMs, full jitter, capped', () => {
  const options = { minDelayMs: 100, maxDelayMs: 1_000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 30].map((attempt) => reconnectDelay(attempt, options, () => 0)),
    [100, 200, 400, 800, 1_000, 1_000],
  );
  assert.equal(
    reconnectDelay(2, options, () => 0.75),
    100,
  );
  assert.equal(
    reconnectDelay(0, { minDelayMs: 100, maxDelayMs: 10 }, () => 0),
    100,
    'a cap below the floor',
  );
});

test('gives up after the last attempt, and on anything not transient', () => {
  assert.equal(retryDelay(5, unavailable, policy), undefined);
  assert.equal(retryDelay(1, new AgentwireError('invalid_payload'), policy), undefined);
  assert.equal(retryDelay(1, new AgentwireError('forbidden'), policy), undefined);
  assert.equal(retryDelay(1, new Error('bug'), policy), undefined);
  assert.notEqual(retryDelay(1, new AgentwireError('rate_limited'), policy), undefined);
  assert.notEqual(retryDelay(1, new AgentwireError('timeout'), policy), undefined);
  assert.ok(defaultRetryPolicy.attempts > 1);
});

test('Retry-After is honoured with at most 10% jitter on top, unless it is absurdly long', () => {
  const throttled = new HttpStatusError('rate_limited', 'slow down', undefined, 429, 2_000);
  assert.equal(
    retryDelay(1, throttled, policy, () => 0),
    2_000,
  );
  assert.equal(
    retryDelay(1, throttled, policy, () => 1),
    2_200,
  );
  const forever = new HttpStatusError('rate_limited', 'come back tomorrow', undefined, 429, 86_400_000);
  assert.equal(retryDelay(1, forever, policy), undefined);
});

test('the status actually received decides, so a proxy 502 without our body is retried', () => {
  const proxy = new HttpStatusError('unavailable', 'bad gateway', undefined, 502);
  assert.equal(proxy.status, 502);
  assert.notEqual(retryDelay(1, proxy, policy), undefined);
});

test('Retry-After parses delay-seconds and HTTP dates', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3_000);
  assert.equal(parseRetryAfter('0.5', now), 500);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});
