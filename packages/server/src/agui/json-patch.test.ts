import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { diff } from './json-patch.js';

/** Applies our patch with the library `@ag-ui/client` applies STATE_DELTA with. */
function apply(from: unknown, ops: ReturnType<typeof diff>): unknown {
  return jsonPatch.applyPatch(structuredClone(from), ops as Operation[], true, false).newDocument;
}

function roundTrip(from: unknown, to: unknown): ReturnType<typeof diff> {
  const ops = diff(from, to);
  assert.deepEqual(apply(from, ops), to);
  return ops;
}

describe('JSON Patch diff of AG-UI states', () => {
  it('adds, removes and replaces fields, recursing into shared structure', () => {
    const a = { status: 'running', progress: { percent: 10 }, agents: { x: { name: 'x' } }, gone: 1 };
    const b = {
      status: 'completed',
      progress: { percent: 100 },
      agents: { x: { name: 'x' }, y: { name: 'y' } },
    };
    assert.deepEqual(roundTrip(a, b), [
      { op: 'remove', path: '/gone' },
      { op: 'replace', path: '/status', value: 'completed' },
      { op: 'replace', path: '/progress/percent', value: 100 },
      { op: 'add', path: '/agents/y', value: { name: 'y' } },
    ]);
  });

  it('is empty for equal values, and skips branches shared by reference', () => {
    const shared = { big: Array.from({ length: 1000 }, (_, i) => i) };
    assert.deepEqual(diff({ a: shared, n: 1 }, { a: shared, n: 1 }), []);
    assert.deepEqual(diff({ a: 1 }, { a: 1 }), []);
  });

  it('appends to arrays that grew, and drops from the front of a sliding window', () => {
    assert.deepEqual(roundTrip({ order: ['a'] }, { order: ['a', 'b', 'c'] }), [
      { op: 'add', path: '/order/-', value: 'b' },
      { op: 'add', path: '/order/-', value: 'c' },
    ]);
    const logs = [{ seq: 1 }, { seq: 2 }, { seq: 3 }];
    assert.deepEqual(roundTrip({ logs }, { logs: [{ seq: 2 }, { seq: 3 }, { seq: 4 }] }), [
      { op: 'remove', path: '/logs/0' },
      { op: 'add', path: '/logs/-', value: { seq: 4 } },
    ]);
  });

  it('patches same-length arrays item by item and replaces rewritten ones', () => {
    assert.deepEqual(roundTrip({ s: ['a', 'b'] }, { s: ['a', 'c'] }), [
      { op: 'replace', path: '/s/1', value: 'c' },
    ]);
    roundTrip({ s: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, { s: [10, 9] });
    roundTrip({ s: [1, 2] }, { s: { not: 'an array' } });
    roundTrip({ s: null }, { s: [1] });
  });

  it('escapes keys that are not plain JSON Pointer tokens', () => {
    const ops = roundTrip({ tools: {} }, { tools: { 'a/b~c': { ok: true } } });
    assert.deepEqual(ops, [{ op: 'add', path: '/tools/a~1b~0c', value: { ok: true } }]);
  });
});
