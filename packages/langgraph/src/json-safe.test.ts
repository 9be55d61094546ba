import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { toJsonSafe } from './json-safe.js';

test('messages become the { type, content, … } objects LangChain prints', () => {
  const state = {
    messages: [
      new HumanMessage({ content: 'What is 2 + 3?', id: 'm1' }),
      new AIMessage({ content: '', tool_calls: [{ id: 'c1', name: 'add', args: { a: 2, b: 3 } }] }),
      new ToolMessage({ content: '5', tool_call_id: 'c1', name: 'add' }),
    ],
  };
  assert.deepEqual(toJsonSafe(state), {
    messages: [
      { type: 'human', content: 'What is 2 + 3?', id: 'm1' },
      {
        type: 'ai',
        content: '',
        tool_calls: [{ id: 'c1', name: 'add', args: { a: 2, b: 3 } }],
      },
      { type: 'tool', content: '5', name: 'add', tool_call_id: 'c1' },
    ],
  });
});

test('cycles, functions, non-finite numbers, dates, errors and deep nesting become JSON', () => {
  const loop: Record<string, unknown> = { name: 'loop' };
  loop.self = loop;
  const shared = { n: 1 };
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 40; i++) deep = deep.next = {};
  const out = toJsonSafe({
    loop,
    twice: [shared, shared],
    fn: () => 1,
    nan: Number.NaN,
    big: 10n,
    at: new Date(0),
    err: new TypeError('bad'),
    root,
  }) as Record<string, unknown>;
  assert.deepEqual(out.loop, { name: 'loop', self: '[circular]' });
  assert.deepEqual(out.twice, [{ n: 1 }, { n: 1 }], 'a value seen twice is not a cycle');
  assert.equal('fn' in out, false);
  assert.equal(out.nan, null);
  assert.equal(out.big, '10');
  assert.equal(out.at, '1970-01-01T00:00:00.000Z');
  assert.deepEqual(out.err, { name: 'TypeError', message: 'bad' });
  assert.match(JSON.stringify(out.root), /"\[too deep\]"/);
});
