import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventSchema, RunAgentInputSchema } from '@ag-ui/core/schemas';
import { AgentwireError } from '../errors.js';
import { agUiEventTypes, type AgUiEventType } from './events.js';
import { agUiText, parseAgUiEvent, parseAgUiRunInput } from './run-input.js';

/** One valid event of every AG-UI 1.0 type, as `@ag-ui/core` describes them. */
const samples: Record<AgUiEventType, Record<string, unknown>> = {
  TEXT_MESSAGE_START: { messageId: 'm', role: 'assistant', name: 'lead', subagentRunId: 's' },
  TEXT_MESSAGE_CONTENT: { messageId: 'm', delta: 'hi' },
  TEXT_MESSAGE_END: { messageId: 'm' },
  TEXT_MESSAGE_CHUNK: { messageId: 'm', delta: 'hi' },
  TOOL_CALL_START: { toolCallId: 't', toolCallName: 'search', parentMessageId: 'm' },
  TOOL_CALL_ARGS: { toolCallId: 't', delta: '{"q":' },
  TOOL_CALL_END: { toolCallId: 't' },
  TOOL_CALL_CHUNK: { toolCallId: 't', toolCallName: 'search', delta: '{}' },
  TOOL_CALL_RESULT: { messageId: 'r', toolCallId: 't', content: '42', role: 'tool' },
  STATE_SNAPSHOT: { snapshot: { a: 1 } },
  STATE_DELTA: {
    delta: [
      { op: 'add', path: '/a', value: 1 },
      { op: 'remove', path: '/b' },
    ],
  },
  MESSAGES_SNAPSHOT: {
    messages: [
      { id: 'u', role: 'user', content: [{ type: 'text', text: 'hi' }] },
      {
        id: 'a',
        role: 'assistant',
        toolCalls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { id: 'r', role: 'tool', toolCallId: 't', content: 'ok' },
      { id: 's', role: 'system', content: 'be brief' },
      { id: 'x', role: 'activity', activityType: 'plan', content: { steps: [] } },
      { id: 'y', role: 'reasoning', content: 'hmm' },
    ],
  },
  ACTIVITY_SNAPSHOT: { messageId: 'x', activityType: 'plan', content: { steps: [] } },
  ACTIVITY_DELTA: {
    messageId: 'x',
    activityType: 'plan',
    patch: [{ op: 'replace', path: '/steps', value: [1] }],
  },
  RAW: { event: { anything: true }, source: 'langgraph' },
  CUSTOM: { name: 'chart', value: { points: [1] } },
  RUN_STARTED: { threadId: 'th', runId: 'r1', parentRunId: 'r0' },
  RUN_FINISHED: {
    threadId: 'th',
    runId: 'r1',
    outcome: { type: 'interrupt', interrupts: [{ id: 'i', reason: 'approval', message: 'ok?' }] },
  },
  RUN_ERROR: { message: 'boom', code: 'x' },
  STEP_STARTED: { stepName: 'plan' },
  STEP_FINISHED: { stepName: 'plan' },
  REASONING_START: { messageId: 'r' },
  REASONING_MESSAGE_START: { messageId: 'r', role: 'reasoning' },
  REASONING_MESSAGE_CONTENT: { messageId: 'r', delta: 'think' },
  REASONING_MESSAGE_END: { messageId: 'r' },
  REASONING_MESSAGE_CHUNK: { messageId: 'r', delta: 'think' },
  REASONING_END: { messageId: 'r' },
  REASONING_ENCRYPTED_VALUE: { subtype: 'message', entityId: 'm', encryptedValue: 'xyz' },
  SUBAGENT_STARTED: { subagentRunId: 's', name: 'researcher', parentSubagentRunId: 'p' },
  SUBAGENT_FINISHED: { subagentRunId: 's', outcome: { type: 'suspended', interruptIds: ['i'] } },
  SUBAGENT_ERROR: { subagentRunId: 's', message: 'failed', code: 'x' },
};

/** Broken events: each breaks a field both schemas describe. */
const broken: Record<string, unknown>[] = [
  { type: 'TEXT_MESSAGE_START', role: 'assistant' },
  { type: 'TEXT_MESSAGE_START', messageId: 'm', role: 'tool' },
  { type: 'TOOL_CALL_START', toolCallId: 't' },
  { type: 'STATE_DELTA', delta: [{ op: 'explode', path: '/a' }] },
  { type: 'RUN_FINISHED', threadId: 't', runId: 'r', outcome: { type: 'interrupt', interrupts: [] } },
  { type: 'RUN_ERROR', code: 'x' },
  { type: 'SUBAGENT_STARTED', name: 'no id' },
  { type: 'MESSAGES_SNAPSHOT', messages: [{ id: 'x', role: 'tool', content: 'no call id' }] },
];

describe('AG-UI schemas agree with @ag-ui/core', () => {
  it('covers every event type of the 1.0 protocol', () => {
    const theirs = (EventSchema.options as { shape: { type: { value: string } } }[]).map(
      (o) => o.shape.type.value,
    );
    assert.deepEqual([...agUiEventTypes].sort(), [...theirs].sort());
  });

  it('accepts what @ag-ui/core accepts', () => {
    for (const type of agUiEventTypes) {
      const event = { type, timestamp: 1, metadata: { agentwire: { seq: 1 } }, ...samples[type] };
      assert.ok(EventSchema.safeParse(event).success, `@ag-ui/core accepts the ${type} sample`);
      assert.deepEqual(parseAgUiEvent(event), event, type);
    }
  });

  it('refuses what @ag-ui/core refuses, with invalid_message naming the field', () => {
    for (const event of broken) {
      assert.ok(!EventSchema.safeParse(event).success, `@ag-ui/core refuses ${JSON.stringify(event)}`);
      assert.throws(
        () => parseAgUiEvent(event),
        (err: unknown) => err instanceof AgentwireError && err.code === 'invalid_message',
        JSON.stringify(event),
      );
    }
    assert.throws(() => parseAgUiEvent('TEXT_MESSAGE_START'), AgentwireError);
    assert.throws(() => parseAgUiEvent({ messageId: 'm' }), AgentwireError);
  });

  it('skips a type this build does not know instead of failing the stream', () => {
    assert.equal(parseAgUiEvent({ type: 'SOMETHING_NEWER', x: 1 }), undefined);
  });

  it('parses the RunAgentInput HttpAgent posts', () => {
    const input = {
      threadId: 'th',
      runId: 'r1',
      protocolVersion: '1.0',
      state: {},
      messages: [{ id: 'u', role: 'user', content: 'hi' }],
      tools: [],
      context: [{ description: 'tz', value: 'UTC' }],
      forwardedProps: { agentwire: { kind: 'agent' } },
      resume: [{ interruptId: 'i', status: 'resolved', payload: 'yes' }],
    };
    assert.ok(RunAgentInputSchema.safeParse(input).success);
    assert.deepEqual(parseAgUiRunInput(input), input);
    assert.throws(
      () => parseAgUiRunInput({ threadId: 'th', messages: [] }),
      (err: unknown) => err instanceof AgentwireError && /runId/.test(err.message),
    );
    assert.throws(() => parseAgUiRunInput({ ...input, resume: [{ interruptId: 'i', status: 'maybe' }] }));
  });

  it('reads the text of string and multimodal content', () => {
    assert.equal(agUiText('hi'), 'hi');
    assert.equal(
      agUiText([
        { type: 'text', text: 'a' },
        { type: 'image', source: {} },
        { type: 'text', text: 'b' },
      ]),
      'a\nb',
    );
    assert.equal(agUiText(undefined), '');
  });
});
