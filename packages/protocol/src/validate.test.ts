import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventTypes, isEventType, type EventDataMap } from './catalog.js';
import type { Command } from './commands.js';
import { AgentwireError, errorCodeForClose, errorCodes, isErrorCode, type ErrorCode } from './errors.js';
import {
  isEventDataValid,
  parseClientOp,
  parseCommand,
  parseEnvelope,
  parseEventInput,
  parseJson,
  parseServerOp,
  parseSince,
} from './validate.js';
import type { ServerOp } from './wire.js';

/** Asserts that `fn` throws an AgentwireError with `code`, and returns it. */
function refuses(fn: () => unknown, code: ErrorCode, label = ''): AgentwireError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AgentwireError, `${label}: expected an AgentwireError, got ${String(caught)}`);
  assert.equal(caught.code, code, `${label}: ${caught.message}`);
  return caught;
}

/**
 * One valid and one invalid `data` per catalog type. The mapped type makes this fail to compile when
 * a type is added to the catalog without examples here.
 */
const examples: { [T in keyof EventDataMap]: { valid: EventDataMap[T]; invalid: unknown } } = {
  'task:start': {
    valid: { taskId: 't1', title: 'Research', stages: ['plan', 'write'], estimatedMs: 1000 },
    invalid: { taskId: '', title: 'Research' },
  },
  'task:progress': { valid: { percent: 50, message: 'halfway' }, invalid: { percent: 101 } },
  'task:stage': { valid: { stage: 'plan' }, invalid: { stage: '' } },
  'task:complete': { valid: { result: { ok: true }, summary: 'done' }, invalid: { summary: 42 } },
  'task:failed': {
    valid: { error: { message: 'boom' }, reason: 'timeout' },
    invalid: { error: { message: 'x' }, reason: 'bored' },
  },
  'task:cancelled': { valid: { by: 'alice', agentId: 'a1' }, invalid: { agentId: '' } },
  'agent:spawned': { valid: { agentId: 'a1', name: 'Planner', parentId: 'a0' }, invalid: { agentId: 'a1' } },
  'agent:progress': { valid: { agentId: 'a1', status: 'thinking' }, invalid: { agentId: 'a1', percent: -1 } },
  'agent:complete': { valid: { agentId: 'a1' }, invalid: {} },
  'agent:failed': {
    valid: { agentId: 'a1', error: { message: 'x', code: 'E1' } },
    invalid: { agentId: 'a1', error: {} },
  },
  'agent:handoff': { valid: { from: 'a1', to: 'a2', context: [1] }, invalid: { from: 'a1' } },
  'tool:executing': {
    valid: { callId: 'c1', tool: 'search', attempt: 2 },
    invalid: { callId: 'c1', tool: 'search', attempt: 1.5 },
  },
  'tool:complete': { valid: { callId: 'c1', durationMs: 12, result: null }, invalid: { callId: 'c1' } },
  'tool:failed': {
    valid: { callId: 'c1', error: { message: 'x' }, retryable: true },
    invalid: { callId: 'c1', error: 'x' },
  },
  'message:start': {
    valid: { messageId: 'm1', role: 'assistant' },
    invalid: { messageId: 'm1', role: 'robot' },
  },
  'message:delta': { valid: { messageId: 'm1', delta: 'Hel' }, invalid: { messageId: 'm1', delta: 7 } },
  'message:end': { valid: { messageId: 'm1' }, invalid: { messageId: 1 } },
  'chat:message': { valid: { messageId: 'm2', text: 'hi', from: 'bob' }, invalid: { messageId: 'm2' } },
  'memory:recalled': {
    valid: { memories: [{ content: 'x', score: 0.5 }] },
    invalid: { memories: [{ score: 1 }] },
  },
  'log:entry': {
    valid: { level: 'warn', message: 'disk', fields: { pct: 91 } },
    invalid: { level: 'loud', message: 'x' },
  },
  'question:asked': {
    valid: { questionId: 'q1', prompt: 'Go?', options: [{ value: 'yes' }], timeoutMs: 5000 },
    invalid: { questionId: 'q1', prompt: 'Go?', options: [] },
  },
  'question:answered': {
    valid: { questionId: 'q1', answer: 'yes', by: 'alice' },
    invalid: { questionId: 'q1' },
  },
  'custom:event': { valid: { name: 'cost', payload: { usd: 1 } }, invalid: { payload: 1 } },
  'system:health': { valid: { status: 'degraded', checks: { db: 'slow' } }, invalid: { status: 'meh' } },
  'system:performance': { valid: { metrics: { rss: 1, cpu: 0.5 } }, invalid: { metrics: { rss: 'big' } } },
  'system:alert': {
    valid: { severity: 'critical', message: 'down', source: 'db' },
    invalid: { severity: 'critical' },
  },
  'project:event': {
    valid: { stream: 'task:1', seq: 3, epoch: 'e1', id: 'x', type: 'log:entry', time: 1, data: {} },
    invalid: { stream: 'task 1', seq: 3, epoch: 'e1', id: 'x', type: 'log:entry', time: 1, data: {} },
  },
};

describe('event validation', () => {
  it('has examples for exactly the catalog', () => {
    assert.deepEqual(Object.keys(examples).sort(), [...eventTypes].sort());
  });

  for (const type of eventTypes) {
    const { valid, invalid } = examples[type];
    it(`${type}: accepts a valid event and refuses a wrong one with invalid_payload`, () => {
      const input = { id: `id-${type}`, type, data: valid };
      assert.deepEqual(parseEventInput(input), input);
      assert.equal(isEventDataValid(type, valid), true);
      assert.equal(isEventDataValid(type, invalid), false);
      const err = refuses(() => parseEventInput({ type, data: invalid }), 'invalid_payload', type);
      assert.match(err.message, new RegExp(`^Invalid data for ${type}: `));
      assert.equal(typeof (err.details as { path?: unknown }).path, 'string');
      refuses(() => parseEventInput({ type, data: null }), 'invalid_payload', `${type} null`);
    });
  }

  it('refuses a type outside the catalog with unknown_event_type', () => {
    const err = refuses(() => parseEventInput({ type: 'agent_stream', data: {} }), 'unknown_event_type');
    assert.deepEqual(err.details, { type: 'agent_stream' });
    for (const type of ['__proto__', 'constructor', 'toString', 'task:START', '']) {
      assert.equal(isEventType(type), false, type);
      refuses(() => parseEventInput({ type, data: {} }), 'unknown_event_type', type);
    }
  });

  it('refuses malformed event inputs with invalid_message', () => {
    const cases: [string, unknown][] = [
      ['not an object', 'task:start'],
      ['no type', { data: {} }],
      ['no data', { type: 'task:stage' }],
      ['extra property', { type: 'task:stage', data: { stage: 's' }, seq: 3 }],
      ['id with a space', { id: 'a b', type: 'task:stage', data: { stage: 's' } }],
      ['empty id', { id: '', type: 'task:stage', data: { stage: 's' } }],
      ['id too long', { id: 'x'.repeat(129), type: 'task:stage', data: { stage: 's' } }],
    ];
    for (const [label, input] of cases) refuses(() => parseEventInput(input), 'invalid_message', label);
  });

  it('accepts a W3C trace context and refuses a malformed one', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const stage = { type: 'task:stage', data: { stage: 's' } };
    const traced = { ...stage, trace: { traceparent, tracestate: 'congo=t61rcWkgMzE' } };
    assert.deepEqual(parseEventInput(traced), traced);
    assert.deepEqual(parseEnvelope({ stream: 'task:1', seq: 1, epoch: 'e', id: 'x', time: 1, ...traced }), {
      stream: 'task:1',
      seq: 1,
      epoch: 'e',
      id: 'x',
      time: 1,
      ...traced,
    });
    const bad: [string, unknown][] = [
      ['upper-case hex', traceparent.toUpperCase()],
      ['version ff', `ff${traceparent.slice(2)}`],
      ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
      ['all-zero span id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
      ['short', traceparent.slice(0, -1)],
      ['trailing text', `${traceparent}-x`],
      ['not a string', 42],
    ];
    for (const [label, value] of bad) {
      refuses(() => parseEventInput({ ...stage, trace: { traceparent: value } }), 'invalid_message', label);
    }
    refuses(() => parseEventInput({ ...stage, trace: {} }), 'invalid_message', 'no traceparent');
    refuses(
      () => parseEventInput({ ...stage, trace: { traceparent, baggage: 'x' } }),
      'invalid_message',
      'unknown field',
    );
    refuses(
      () => parseEventInput({ ...stage, trace: { traceparent, tracestate: 'x'.repeat(513) } }),
      'invalid_message',
      'long tracestate',
    );
    refuses(
      () => parseEventInput({ ...stage, trace: { traceparent, tracestate: 'a=1\nb=2' } }),
      'invalid_message',
      'control character in tracestate',
    );
  });

  it('keeps unknown fields inside data, so newer producers can add them', () => {
    const input = { type: 'task:stage', data: { stage: 's', colour: 'blue' } };
    assert.deepEqual(parseEventInput(input), input);
  });

  it('parses envelopes and refuses unknown types in them', () => {
    const e = {
      stream: 'task:1',
      seq: 1,
      epoch: 'e1',
      id: 'x',
      type: 'task:stage',
      time: 1,
      data: { stage: 's' },
    };
    assert.deepEqual(parseEnvelope(e), e);
    refuses(() => parseEnvelope({ ...e, seq: -1 }), 'invalid_message');
    refuses(() => parseEnvelope({ ...e, stream: 'Task 1' }), 'invalid_message');
    refuses(() => parseEnvelope({ ...e, type: 'nope' }), 'unknown_event_type');
  });
});

describe('parseClientOp', () => {
  const valid: Record<string, object> = {
    subscribe: { op: 'subscribe', stream: 'task:42' },
    'subscribe with resume': {
      op: 'subscribe',
      stream: 'task:42',
      since: { epoch: 'e1', seq: 7 },
      ref: 's1',
    },
    'subscribe from the start': { op: 'subscribe', stream: 'project:acme', since: { seq: 0 } },
    'subscribe with snapshot': { op: 'subscribe', stream: 'system', snapshot: true },
    unsubscribe: { op: 'unsubscribe', stream: 'task:42', ref: 'u1' },
    ping: { op: 'ping' },
    'ping with ref': { op: 'ping', ref: 'p1' },
    'command cancel': {
      op: 'command',
      ref: 'c1',
      command: { type: 'cancel', stream: 'task:42', reason: 'x' },
    },
    'command answer': {
      op: 'command',
      ref: 'c2',
      command: { type: 'answer', stream: 'task:42', questionId: 'q1', answer: { any: ['json'] } },
    },
    'command message': {
      op: 'command',
      ref: 'c3',
      command: { type: 'message', stream: 'task:42', text: 'hi' },
    },
    'command start': {
      op: 'command',
      ref: 'c4',
      command: { type: 'start', kind: 'research', input: { q: 1 } },
    },
  };
  for (const [label, op] of Object.entries(valid)) {
    it(`accepts ${label}`, () => assert.deepEqual(parseClientOp(JSON.stringify(op)), op));
  }

  it('refuses text that is not JSON with bad_json', () => {
    for (const text of ['', '{', '{op:"ping"}', "{'op':'ping'}", '{"op":"ping"} x', '\u0000']) {
      refuses(() => parseClientOp(text), 'bad_json', JSON.stringify(text));
    }
    refuses(() => parseJson('nope'), 'bad_json');
  });

  it('refuses JSON that is not an object with invalid_message', () => {
    for (const text of ['1', '"ping"', 'null', 'true', '[]', '[{"op":"ping"}]']) {
      refuses(() => parseClientOp(text), 'invalid_message', text);
    }
  });

  it('refuses missing and unknown ops with unknown_op', () => {
    for (const op of [
      {},
      { op: 'explode' },
      { op: 'PING' },
      { op: 7 },
      { op: null },
      { op: ['ping'] },
      { op: 'hello' },
    ]) {
      refuses(() => parseClientOp(JSON.stringify(op)), 'unknown_op', JSON.stringify(op));
    }
  });

  it('refuses a bad resume position with invalid_since at /since', () => {
    const bad = [
      null,
      7,
      {},
      { seq: -1 },
      { seq: 1.5 },
      { seq: '3' },
      { seq: 2 ** 53 },
      { epoch: '', seq: 1 },
      { epoch: 5, seq: 1 },
      { seq: 1, extra: true },
    ];
    for (const since of bad) {
      const err = refuses(
        () => parseClientOp(JSON.stringify({ op: 'subscribe', stream: 'task:1', since })),
        'invalid_since',
        JSON.stringify(since),
      );
      assert.match((err.details as { path: string }).path, /^\/since/);
    }
    assert.deepEqual(parseSince({ seq: 0 }), { seq: 0 });
    refuses(() => parseSince({ seq: -1 }), 'invalid_since');
  });

  it('refuses a bad or missing stream name with invalid_stream, as HTTP does', () => {
    for (const op of [
      { op: 'subscribe', stream: 'no spaces allowed' },
      { op: 'subscribe' },
      { op: 'unsubscribe', stream: 7 },
    ]) {
      const err = refuses(() => parseClientOp(JSON.stringify(op)), 'invalid_stream', JSON.stringify(op));
      assert.deepEqual(err.details, { path: '/stream' });
    }
  });

  it('refuses extra properties and wrong fields with invalid_message naming the path', () => {
    const cases: [object, string][] = [
      [{ op: 'ping', extra: 1 }, '/extra'],
      [{ op: 'subscribe', stream: 'task:1', snapshot: 'yes' }, '/snapshot'],
      [{ op: 'subscribe', stream: 'task:1', from: 3 }, '/from'],
      [{ op: 'unsubscribe', stream: 'task:1', since: { seq: 1 } }, '/since'],
      [{ op: 'subscribe', stream: 'task:1', ref: '' }, '/ref'],
      [{ op: 'command', command: { type: 'cancel', stream: 'task:1' } }, '/ref'],
      [{ op: 'command', ref: 'c', command: { type: 'answer', stream: 'task:1' } }, '/command/questionId'],
      [
        { op: 'command', ref: 'c', command: { type: 'cancel', stream: 'task:1', force: true } },
        '/command/force',
      ],
      [{ op: 'command', ref: 'c', command: { type: 'explode' } }, '/command/type'],
      [{ op: 'command', ref: 'c', command: 'cancel' }, '/command'],
      [{ op: 'command', ref: 'c' }, '/command'],
    ];
    for (const [op, path] of cases) {
      const err = refuses(() => parseClientOp(JSON.stringify(op)), 'invalid_message', JSON.stringify(op));
      assert.deepEqual(err.details, { path }, JSON.stringify(op));
      assert.ok(err.message.endsWith(`at ${path}`), err.message);
    }
  });

  it('parses commands on their own', () => {
    const cmd: Command = { type: 'answer', stream: 'task:1', questionId: 'q', answer: 3 };
    assert.deepEqual(parseCommand(cmd), cmd);
    assert.deepEqual(refuses(() => parseCommand({ type: 'answer' }), 'invalid_message').details, {
      path: '/stream',
    });
    refuses(() => parseCommand({ type: 'zap' }), 'invalid_message');
    refuses(() => parseCommand({}), 'invalid_message');
    refuses(() => parseCommand(null), 'invalid_message');
  });
});

describe('parseServerOp', () => {
  const event = {
    stream: 'task:42',
    seq: 3,
    epoch: 'e1',
    id: 'evt-3',
    type: 'tool:executing',
    time: 1_700_000_000_000,
    data: { callId: 'c1', tool: 'search' },
  } as const;
  const frames: ServerOp[] = [
    { op: 'hello', version: 1, connection: 'c-1', heartbeatMs: 15_000 },
    { op: 'event', event },
    { op: 'events', stream: 'task:42', events: [event, { ...event, seq: 4, id: 'evt-4' }] },
    { op: 'subscribed', stream: 'task:42', epoch: 'e1', seq: 4, recovered: true, ref: 's1' },
    {
      op: 'subscribed',
      stream: 'task:42',
      epoch: 'e2',
      seq: 9,
      recovered: false,
      snapshot: { seq: 9, state: null },
    },
    { op: 'unsubscribed', stream: 'task:42', ref: 'u1' },
    { op: 'ack', ref: 'c1' },
    { op: 'ack', ref: 'c2', result: { taskId: 't9' } },
    { op: 'error', code: 'no_producer', message: 'No producer owns this task.', ref: 'c1' },
    { op: 'error', code: 'invalid_since', message: 'x', stream: 'task:42', details: { path: '/since' } },
    { op: 'pong', time: 1 },
    { op: 'pong', ref: 'p1', time: 2 },
  ];
  for (const frame of frames) {
    it(`round-trips ${frame.op} ${JSON.stringify(frame).slice(0, 60)}`, () => {
      assert.deepEqual(parseServerOp(JSON.stringify(frame)), frame);
    });
  }

  it('accepts fields and event types newer than this build', () => {
    const text = JSON.stringify({ op: 'event', event: { ...event, type: 'task:paused' }, hint: 1 });
    assert.equal(parseServerOp(text).op, 'event');
  });

  it('refuses frames that do not match', () => {
    refuses(() => parseServerOp('{'), 'bad_json');
    for (const frame of [
      {},
      { op: 'nope' },
      { op: 'hello', version: 1 },
      { op: 'event', event: { ...event, seq: -1 } },
      { op: 'events', stream: 'task:42', events: [{ ...event, epoch: '' }] },
      { op: 'subscribed', stream: 'task:42', epoch: 'e', seq: 1 },
      { op: 'ack' },
      { op: 'pong' },
    ]) {
      refuses(() => parseServerOp(JSON.stringify(frame)), 'invalid_message', JSON.stringify(frame));
    }
  });
});

describe('hostile input', () => {
  const depth = 100_000;
  const arrays = '['.repeat(depth) + ']'.repeat(depth);
  const objects = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  it('absurd nesting is refused with a typed error and nothing else', () => {
    const cases: [string, ErrorCode][] = [
      [arrays, 'invalid_message'],
      [objects, 'unknown_op'],
      ['['.repeat(depth), 'bad_json'],
      [`{"op":${arrays}}`, 'unknown_op'],
      [`{"op":"ping","x":${arrays}}`, 'invalid_message'],
      [`{"op":"subscribe","stream":"task:1","since":${arrays}}`, 'invalid_since'],
      [`{"op":"command","ref":"r","command":${arrays}}`, 'invalid_message'],
      [`{"op":"command","ref":"r","command":{"type":${arrays}}}`, 'invalid_message'],
    ];
    for (const [text, code] of cases) refuses(() => parseClientOp(text), code, text.slice(0, 40));
    refuses(() => parseServerOp(arrays), 'invalid_message');
    refuses(() => parseServerOp(`{"op":"event","event":${arrays}}`), 'invalid_message');
  });

  it('opaque fields may nest deeply; validation does not recurse into them', () => {
    const op = parseClientOp(
      `{"op":"command","ref":"r","command":{"type":"answer","stream":"task:1","questionId":"q","answer":${arrays}}}`,
    );
    assert.equal(op.op, 'command');
  });

  it('__proto__ keys never reach Object.prototype', () => {
    const probe = () => ({}) as Record<string, unknown>;
    refuses(() => parseClientOp('{"op":"ping","__proto__":{"polluted":true}}'), 'invalid_message');
    refuses(
      () =>
        parseClientOp('{"op":"subscribe","stream":"task:1","since":{"seq":1,"__proto__":{"polluted":true}}}'),
      'invalid_since',
    );
    refuses(() => parseClientOp('{"__proto__":{"op":"ping"}}'), 'unknown_op');
    const input = parseEventInput(
      JSON.parse('{"type":"custom:event","data":{"name":"x","payload":{"__proto__":{"polluted":true}}}}'),
    );
    assert.equal(input.type, 'custom:event');
    parseServerOp(
      '{"op":"ack","ref":"r","result":{"__proto__":{"polluted":true}},"__proto__":{"polluted":true}}',
    );
    assert.equal(probe().polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });
});

describe('error registry', () => {
  it('every code has an HTTP status, a close code and a message', () => {
    for (const [code, entry] of Object.entries(errorCodes)) {
      assert.ok(entry.status >= 400 && entry.status < 600, code);
      assert.ok(entry.close === 1007 || entry.close >= 1009, code);
      assert.ok(entry.message.length > 0, code);
      assert.match(code, /^[a-z][a-z_]*$/);
    }
  });

  it('round-trips error bodies and maps close codes back', () => {
    const err = new AgentwireError('invalid_since', 'bad', { path: '/since' });
    assert.deepEqual(AgentwireError.from(JSON.parse(JSON.stringify(err))), err);
    assert.equal(err.status, 400);
    assert.equal(err.closeCode, 4400);
    assert.equal(new AgentwireError('timeout').message, errorCodes.timeout.message);
    assert.equal(AgentwireError.from({ code: 'nope' }).code, 'internal');
    assert.equal(AgentwireError.from('x').code, 'internal');
    assert.equal(isErrorCode('constructor'), false);
    assert.equal(errorCodeForClose(4008), 'slow_consumer');
    assert.equal(errorCodeForClose(1012), 'shutting_down');
    assert.equal(errorCodeForClose(1000), undefined);
  });
});
