import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnwatchedStreams } from './unwatched.js';

describe('unwatched streams', () => {
  it('is recent within the grace, and expires a stream only if nobody came back', () => {
    const expired: string[] = [];
    const u = new UnwatchedStreams(10, (stream) => expired.push(stream));
    u.left('a', 0);
    u.left('b', 1);
    u.left('c', 2);
    u.watched('b'); // back before the grace ran out: never expires
    u.left('c', 5); // left again: its grace starts over
    assert.equal(u.recent('a', 10), true);
    assert.equal(u.recent('a', 11), false);
    assert.equal(u.recent('b', 3), false);
    u.left('d', 13);
    assert.deepEqual(expired, ['a']);
    u.left('e', 16);
    assert.deepEqual(expired, ['a', 'c']);
    assert.equal(u.size, 2);
  });

  it('keeps its queue bounded through many leaves', () => {
    const u = new UnwatchedStreams(5, () => {});
    for (let t = 0; t < 100_000; t++) u.left(`s${t % 50}`, t);
    assert.ok(u.size <= 50);
    assert.equal(u.recent('s49', 99_999), true);
  });
});
