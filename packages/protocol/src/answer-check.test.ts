import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerIssue, assertAnswer } from './answer-check.js';
import { AgentwireError } from './errors.js';
import { schemaIssue, unsupportedSchema } from './json-schema.js';
import { parseGatewayOp, parseProducerFrame, parseProducerOp } from './producer-validate.js';

describe('answers against options and schemas', () => {
  it('an option answer is one of the values, nothing else', () => {
    const spec = { options: [{ value: 'yes' }, { value: 'no', label: 'No thanks' }] };
    assert.equal(answerIssue(spec, 'yes'), undefined);
    assert.match(answerIssue(spec, 'maybe')!.message, /one of "yes", "no"/);
    assert.ok(answerIssue(spec, { value: 'yes' }), 'an object is not an option value');
    assert.ok(answerIssue(spec, undefined));
  });

  it('without options or schema any value answers', () => {
    assert.equal(answerIssue({}, 'free text'), undefined);
    assert.equal(answerIssue({}, { anything: [1, 2] }), undefined);
  });

  it('schemas check type, bounds, patterns, required and extra properties, combinators', () => {
    const schema = {
      type: 'object',
      required: ['depth', 'sources'],
      additionalProperties: false,
      properties: {
        depth: { type: 'integer', minimum: 1, maximum: 5 },
        sources: { type: 'array', items: { enum: ['web', 'internal'] }, minItems: 1, uniqueItems: true },
        note: { type: 'string', maxLength: 10, pattern: '^[a-z ]*$' },
        budget: { anyOf: [{ type: 'null' }, { type: 'number', exclusiveMinimum: 0, multipleOf: 0.01 }] },
      },
    };
    assert.equal(unsupportedSchema(schema), undefined);
    const ok = { depth: 3, sources: ['web'], note: 'quick look', budget: 0.3 };
    assert.equal(answerIssue({ schema }, ok), undefined);
    const cases: [unknown, string, RegExp][] = [
      [{ sources: ['web'] }, '', /missing required property "depth"/],
      [{ ...ok, depth: 2.5 }, '/depth', /expected integer/],
      [{ ...ok, depth: 9 }, '/depth', /<= 5/],
      [{ ...ok, sources: [] }, '/sources', /at least 1 items/],
      [{ ...ok, sources: ['web', 'web'] }, '/sources', /equal/],
      [{ ...ok, sources: ['tv'] }, '/sources/0', /one of "web", "internal"/],
      [{ ...ok, note: 'Loud!' }, '/note', /must match/],
      [{ ...ok, extra: 1 }, '/extra', /unexpected property/],
      [{ ...ok, budget: -1 }, '/budget', /anyOf/],
      ['text', '', /expected object, got string/],
    ];
    for (const [value, path, message] of cases) {
      const issue = schemaIssue(schema, value);
      assert.ok(issue, `${JSON.stringify(value)} should be refused`);
      assert.equal(issue.path, path);
      assert.match(issue.message, message);
    }
  });

  it('refuses schemas it cannot fully check, naming the keyword', () => {
    assert.match(unsupportedSchema({ $ref: '#/$defs/x' })!.message, /"\$ref" is not supported/);
    assert.equal(unsupportedSchema({ properties: { a: { if: {} } } })!.path, '/properties/a/if');
    assert.match(unsupportedSchema({ type: 'text' })!.message, /JSON type name/);
    assert.match(unsupportedSchema({ pattern: '(' })!.message, /valid regular expression/);
    assert.match(answerIssue({ schema: { $ref: '#' } }, 1)!.message, /cannot be checked/);
  });

  it('assertAnswer throws invalid_answer with the path', () => {
    assert.throws(
      () => assertAnswer({ schema: { type: 'object', properties: { n: { type: 'number' } } } }, { n: 'x' }),
      (err: unknown) =>
        err instanceof AgentwireError && err.code === 'invalid_answer' && /at \/n/.test(err.message),
    );
  });
});

describe('producer channel ops', () => {
  it('parses every producer op and refuses unknown or malformed ones with registry codes', () => {
    const ok = [
      { op: 'hello', version: 1, producerId: 'p1', streams: ['task:1'], kinds: ['research'], capacity: 2 },
      { op: 'claim', streams: ['task:1'] },
      { op: 'worker', kinds: [] },
      { op: 'ack', id: 'c1', result: { seq: 3 } },
      { op: 'reject', id: 'c1', code: 'question_closed', message: 'late' },
      { op: 'ping' },
      { op: 'bye' },
    ];
    for (const op of ok) assert.deepEqual(parseProducerOp(op), op);
    const refusals: [unknown, string][] = [
      [{ op: 'nope' }, 'unknown_op'],
      [[1], 'invalid_message'],
      [{ op: 'claim', streams: ['not a stream'] }, 'invalid_message'],
      [{ op: 'hello', version: 1 }, 'invalid_message'],
      [{ op: 'ack', id: 'c1', extra: true }, 'invalid_message'],
      [{ op: 'worker', kinds: [''] }, 'invalid_message'],
    ];
    for (const [value, code] of refusals) {
      assert.throws(
        () => parseProducerOp(value),
        (err: unknown) => err instanceof AgentwireError && err.code === code,
      );
    }
    assert.throws(() => parseProducerFrame('{'), { code: 'bad_json' });
  });

  it('parses deliveries and names the offending field of a bad one', () => {
    const deliver = { op: 'command', id: 'c1', command: { type: 'cancel', stream: 'task:1', by: 'alice' } };
    assert.deepEqual(parseGatewayOp(deliver), deliver);
    assert.throws(
      () => parseGatewayOp({ op: 'command', id: 'c2', command: { type: 'message', stream: 'task:1' } }),
      (err: unknown) => err instanceof AgentwireError && /messageId|text/.test(err.message),
    );
  });
});
