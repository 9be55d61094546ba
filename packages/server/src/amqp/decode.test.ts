import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentwireError } from '@agentwire/protocol';
import { decodeDelivery, type AmqpDelivery } from './decode.js';

const MAX = 64 * 1024;
const delivery = (body: unknown, routingKey = 'task:t1', messageId?: string): AmqpDelivery => ({
  content: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  routingKey,
  ...(messageId !== undefined && { messageId }),
});

function refusedWith(code: string) {
  return (err: unknown): true => {
    assert.ok(err instanceof AgentwireError, `expected an AgentwireError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

const step = (status: string, data: Record<string, unknown> = {}) => ({
  type: 'executor.step.progress',
  requestId: 'req-123',
  agent: 'executor-agent',
  data: { stepId: 's1', stepOrder: 1, status, ...data },
});

describe('AMQP message decoding', () => {
  describe('canonical messages', () => {
    const log = { type: 'log:entry', data: { level: 'info', message: 'hi' } };

    it('takes the stream from the routing key and the id from the message', () => {
      const got = decodeDelivery(delivery({ id: 'e-1', ...log }, 'task:t1', 'amqp-id'), MAX);
      assert.deepEqual(got, { stream: 'task:t1', event: { id: 'e-1', ...log } });
    });

    it('carries the trace context of the message, else of the traceparent header', () => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const other = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const headers = { traceparent: Buffer.from(other), tracestate: 'a=1' };
      assert.deepEqual(decodeDelivery({ ...delivery({ id: 'e', ...log }), headers }, MAX).event, {
        id: 'e',
        ...log,
        trace: { traceparent: other, tracestate: 'a=1' },
      });
      const own = { id: 'e', ...log, trace: { traceparent } };
      assert.deepEqual(decodeDelivery({ ...delivery(own), headers }, MAX).event, own);
      assert.deepEqual(decodeDelivery({ ...delivery(step('running')), headers }, MAX).event.trace, {
        traceparent: other,
        tracestate: 'a=1',
      });
      assert.throws(
        () => decodeDelivery({ ...delivery(log), headers: { traceparent: 'nope' } }, MAX),
        refusedWith('invalid_message'),
      );
    });

    it('prefers the stream the message names', () => {
      assert.equal(
        decodeDelivery(delivery({ ...log, stream: 'project:p' }, 'task:t1'), MAX).stream,
        'project:p',
      );
    });

    it('uses the AMQP message id, else a stable hash of the content', () => {
      assert.equal(decodeDelivery(delivery(log, 'task:t1', 'msg-42'), MAX).event.id, 'msg-42');
      const a = decodeDelivery(delivery(log), MAX).event.id;
      const b = decodeDelivery(delivery(log), MAX).event.id;
      const c = decodeDelivery(delivery({ ...log, data: { level: 'info', message: 'other' } }), MAX).event.id;
      assert.match(a, /^amqp-[A-Za-z0-9_-]{32}$/);
      assert.equal(a, b, 'a redelivery gets the same id');
      assert.notEqual(a, c);
      // A message id that cannot be an event id (spaces, too long) is hashed, not refused.
      const odd = decodeDelivery(delivery(log, 'task:t1', 'has spaces'), MAX).event.id;
      assert.match(odd, /^amqp-/);
      assert.equal(decodeDelivery(delivery(log, 'task:t1', 'has spaces'), MAX).event.id, odd);
    });

    it('refuses what cannot be an event, with the registry code', () => {
      assert.throws(() => decodeDelivery(delivery('{not json'), MAX), refusedWith('bad_json'));
      assert.throws(
        () => decodeDelivery({ content: Buffer.from([0x7b, 0xff, 0x7d]), routingKey: 'task:t1' }, MAX),
        refusedWith('bad_encoding'),
      );
      assert.throws(() => decodeDelivery(delivery([log]), MAX), refusedWith('invalid_message'));
      assert.throws(() => decodeDelivery(delivery({ data: {} }), MAX), refusedWith('invalid_message'));
      assert.throws(
        () => decodeDelivery(delivery({ type: 'tool:nope', data: {} }), MAX),
        refusedWith('unknown_event_type'),
      );
      assert.throws(
        () => decodeDelivery(delivery({ type: 'log:entry', data: { level: 'loud' } }), MAX),
        refusedWith('invalid_payload'),
      );
      assert.throws(
        () => decodeDelivery(delivery({ ...log, extra: 1 }), MAX),
        refusedWith('invalid_message'),
      );
      assert.throws(
        () => decodeDelivery(delivery(log, 'agent.events.log'), MAX),
        refusedWith('invalid_stream'),
      );
      assert.throws(
        () => decodeDelivery(delivery({ ...log, stream: 'Not A Stream' }), MAX),
        refusedWith('invalid_stream'),
      );
      assert.throws(
        () => decodeDelivery(delivery({ ...log, data: { level: 'info', message: 'x'.repeat(100) } }), 50),
        refusedWith('payload_too_large'),
      );
    });
  });

  describe("seed 002's messages", () => {
    it('maps a running step to tool:executing on task:<requestId>', () => {
      const got = decodeDelivery(
        delivery(step('running', { tool: 'search' }), 'executor.step.progress', 'm1'),
        MAX,
      );
      assert.deepEqual(got, {
        stream: 'task:req-123',
        event: {
          id: 'm1',
          type: 'tool:executing',
          data: { callId: 's1', tool: 'search', agentId: 'executor-agent' },
        },
      });
      const noTool = decodeDelivery(delivery(step('running'), 'executor.step.progress'), MAX);
      assert.equal((noTool.event.data as { tool: string }).tool, 'step');
    });

    it('maps completed and failed steps onto the same call', () => {
      const done = decodeDelivery(
        delivery(step('completed', { result: { rows: 3 } }), 'executor.step.progress'),
        MAX,
      );
      assert.deepEqual(done.event.data, {
        callId: 's1',
        agentId: 'executor-agent',
        durationMs: 0,
        result: { rows: 3 },
      });
      assert.equal(done.event.type, 'tool:complete');
      const failed = decodeDelivery(
        delivery(step('failed', { error: 'disk full' }), 'executor.step.progress'),
        MAX,
      );
      assert.equal(failed.event.type, 'tool:failed');
      assert.deepEqual(failed.event.data, {
        callId: 's1',
        agentId: 'executor-agent',
        error: { message: 'disk full' },
      });
    });

    it('accepts any agent that publishes step progress, and a step without an id', () => {
      const got = decodeDelivery(
        delivery(
          {
            type: 'planner.step.progress',
            requestId: 'r9',
            agent: 'planner',
            data: { stepOrder: 4, status: 'running' },
          },
          'x',
        ),
        MAX,
      );
      assert.equal(got.stream, 'task:r9');
      assert.deepEqual(got.event.data, { callId: 'step-4', tool: 'step', agentId: 'planner' });
    });

    it('maps agent and request completion', () => {
      const agent = decodeDelivery(
        delivery(
          { type: 'agent.completed', agent: 'thought-agent', requestId: 'req-123', data: { thoughts: 2 } },
          'agent.completed',
        ),
        MAX,
      );
      assert.deepEqual(agent, {
        stream: 'task:req-123',
        event: {
          id: agent.event.id,
          type: 'agent:complete',
          data: { agentId: 'thought-agent', result: { thoughts: 2 } },
        },
      });
      const request = decodeDelivery(
        delivery({ type: 'request.completed', requestId: 'req-123', result: { answer: 42 } }, 'x'),
        MAX,
      );
      assert.equal(request.event.type, 'task:complete');
      assert.deepEqual(request.event.data, { result: { answer: 42 } });
    });

    it("maps the guide's error message to an error log entry, on the routing key's stream", () => {
      const got = decodeDelivery(
        delivery({ type: 'error', agent: 'executor-agent', message: 'Boom', step: 2 }, 'task:req-123'),
        MAX,
      );
      assert.deepEqual(got.event.data, {
        level: 'error',
        message: 'Boom',
        agentId: 'executor-agent',
        fields: { step: 2 },
      });
      assert.equal(got.stream, 'task:req-123');
    });

    it('refuses seed messages it cannot place or map', () => {
      assert.throws(
        () => decodeDelivery(delivery(step('paused'), 'executor.step.progress'), MAX),
        refusedWith('unknown_event_type'),
      );
      const noRequest = { type: 'agent.completed', agent: 'a', data: {} };
      assert.throws(
        () => decodeDelivery(delivery(noRequest, 'agent.completed'), MAX),
        refusedWith('invalid_stream'),
      );
      assert.throws(
        () => decodeDelivery(delivery({ ...step('running'), requestId: 'has space' }, 'x'), MAX),
        refusedWith('invalid_stream'),
      );
      // No stepId and no order: the call has no id, which the catalog refuses.
      assert.throws(
        () =>
          decodeDelivery(
            delivery({ type: 'executor.step.progress', requestId: 'r', data: { status: 'running' } }, 'x'),
            MAX,
          ),
        refusedWith('invalid_payload'),
      );
    });
  });
});
