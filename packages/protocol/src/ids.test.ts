import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeOrderedId } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('timeOrderedId is a UUIDv7 carrying the time in its first 48 bits', () => {
  const now = Date.UTC(2026, 10, 22, 2, 30);
  const id = timeOrderedId(now);
  assert.match(id, UUID_V7);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), now);
});

test('timeOrderedId sorts by time across milliseconds and is unique within one', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => timeOrderedId(1_700_000_000_000 + Math.floor(i / 10)));
  for (let i = 10; i < ids.length; i += 10) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  assert.equal(new Set(ids).size, ids.length);
  assert.match(timeOrderedId(), UUID_V7);
});
