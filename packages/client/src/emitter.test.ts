import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from './emitter.js';

type Events = { a: [n: number]; b: [s: string, flag: boolean] };

test('on returns a disposer; off and clear remove listeners', () => {
  const e = new Emitter<Events>();
  const got: string[] = [];
  const dispose = e.on('a', (n) => got.push(`a${n}`));
  const b = (s: string, f: boolean) => got.push(`b${s}${f}`);
  e.on('b', b);
  e.emit('a', 1);
  e.emit('b', 'x', true);
  dispose();
  e.off('b', b);
  e.emit('a', 2);
  e.emit('b', 'y', false);
  assert.deepEqual(got, ['a1', 'bxtrue']);
  assert.equal(e.has('a'), false);
});

test('a throwing listener is reported on its own and does not stop the others', () => {
  const e = new Emitter<Events>();
  const reported: unknown[] = [];
  const g = globalThis as { reportError?: (err: unknown) => void };
  const saved = g.reportError;
  g.reportError = (err) => reported.push(err);
  try {
    const got: number[] = [];
    e.on('a', () => {
      throw new Error('boom');
    });
    e.on('a', (n) => got.push(n));
    e.emit('a', 3);
    assert.deepEqual(got, [3]);
    assert.equal((reported[0] as Error).message, 'boom');
  } finally {
    if (saved) g.reportError = saved;
    else delete g.reportError;
  }
});

test('listeners added or removed during emit do not disturb the running emit', () => {
  const e = new Emitter<Events>();
  const got: string[] = [];
  const second = () => got.push('second');
  e.on('a', () => {
    got.push('first');
    e.off('a', second);
    e.on('a', () => got.push('late'));
  });
  e.on('a', second);
  e.emit('a', 0);
  assert.deepEqual(got, ['first', 'second']);
});
