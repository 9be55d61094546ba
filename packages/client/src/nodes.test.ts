import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeList } from './nodes.js';

test('one URL is used for every connection', () => {
  const nodes = new NodeList('http://a:1');
  assert.deepEqual([nodes.next(), nodes.next(), nodes.current()], ['http://a:1', 'http://a:1', 'http://a:1']);
});

test('a list starts at its first node and moves to the next one for every later connection', () => {
  const nodes = new NodeList(['http://a:1', 'http://b:2', 'http://c:3']);
  const seen = Array.from({ length: 5 }, () => nodes.next());
  assert.deepEqual(seen, ['http://a:1', 'http://b:2', 'http://c:3', 'http://a:1', 'http://b:2']);
  assert.equal(nodes.current(), 'http://b:2');
});

test('a function is asked before every connection', () => {
  let n = 0;
  const nodes = new NodeList(() => `http://node-${++n}:1`);
  assert.equal(nodes.next(), 'http://node-1:1');
  assert.equal(nodes.next(), 'http://node-2:1');
});

test('bad lists fail when the client is created', () => {
  assert.throws(() => new NodeList([]), TypeError);
  assert.throws(() => new NodeList(['http://a:1', 'ftp://b']), TypeError);
});
