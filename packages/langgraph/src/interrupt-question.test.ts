import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clipPrompt, defaultQuestion } from './interrupt-question.js';

test('a string interrupt is the prompt', () => {
  assert.deepEqual(defaultQuestion({ id: 'i1', value: 'Your name?' }), { prompt: 'Your name?' });
});

test('an object gives its question and options; other values show as JSON', () => {
  assert.deepEqual(
    defaultQuestion({ value: { question: 'Ship it?', options: ['yes', { value: 'no', label: 'Not yet' }] } }),
    { prompt: 'Ship it?', options: [{ value: 'yes' }, { value: 'no', label: 'Not yet' }] },
  );
  assert.deepEqual(defaultQuestion({ value: { prompt: 'Budget?', options: 'any' } }), { prompt: 'Budget?' });
  assert.deepEqual(defaultQuestion({ value: { action: 'refund', amount: 12 } }), {
    prompt: '{"action":"refund","amount":12}',
  });
  assert.deepEqual(defaultQuestion({ value: 42 }), { prompt: '42' });
});

test('options beyond the catalog’s limits are left out rather than cut', () => {
  const many = Array.from({ length: 51 }, (_, i) => `o${i}`);
  assert.equal(defaultQuestion({ value: { question: 'Pick', options: many } }).options, undefined);
  assert.equal(
    defaultQuestion({ value: { question: 'Pick', options: ['x'.repeat(501)] } }).options,
    undefined,
  );
});

test('a responseSchema is the question’s schema only when the gateway can check it', () => {
  const checkable = { type: 'object', properties: { copies: { type: 'integer', minimum: 1 } } };
  assert.deepEqual(defaultQuestion({ value: 'How many?', responseSchema: checkable }).schema, checkable);
  const unsupported = { $ref: '#/$defs/x' };
  assert.equal(defaultQuestion({ value: 'How many?', responseSchema: unsupported }).schema, undefined);
});

test('prompts fit the catalog', () => {
  assert.equal(clipPrompt('').length > 0, true);
  assert.equal(clipPrompt('y'.repeat(20_000)).length, 10_000);
});
