import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FifoCache } from './fifo-cache.js';

describe('fifo cache', () => {
  it('keeps the newest values within its size, dropping the oldest first', () => {
    const cache = new FifoCache<string>(10, (v) => v.length);
    cache.set('a', 'xxxx');
    cache.set('b', 'yyyy');
    cache.set('a', 'ignored: already cached');
    assert.equal(cache.get('a'), 'xxxx');
    cache.set('c', 'zzzz');
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), 'yyyy');
    assert.equal(cache.get('c'), 'zzzz');
    cache.set('big', 'w'.repeat(20));
    assert.equal(cache.get('big'), undefined, 'larger than the whole cache: not kept');
    assert.equal(cache.get('c'), undefined);
  });

  it('stays correct through many evictions and compactions of its key queue', () => {
    const cache = new FifoCache<number>(100, () => 1);
    for (let i = 0; i < 50_000; i++) cache.set(`k${i}`, i);
    assert.equal(cache.get('k49899'), undefined);
    for (let i = 49_900; i < 50_000; i++) assert.equal(cache.get(`k${i}`), i);
  });
});
