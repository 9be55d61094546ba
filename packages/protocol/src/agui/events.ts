import { Type, type Static, type TLiteral, type TObject, type TProperties } from '@sinclair/typebox';

/**
 * The AG-UI 1.0 events (the Agent-User Interaction protocol of `@ag-ui/core`), as agentwire speaks
 * them in both directions: the gateway emits them (docs/agui.md) and the agent SDK's `fromAgUi`
 * parses them. Written from the 1.0 specification and checked against `@ag-ui/core`'s own schemas
 * in the tests; objects are open (extra fields pass), as the protocol's own validators are.
 */

const Str = Type.String();
const Opt = <T extends Parameters<typeof Type.Optional>[0]>(schema: T) => Type.Optional(schema);
const Metadata = Type.Record(Type.String(), Type.Unknown());

/** The fields every event may carry. `subagentRunId` attributes it to a sub-agent invocation. */
const base = {
  timestamp: Opt(Type.Number()),
  rawEvent: Opt(Type.Unknown()),
  metadata: Opt(Metadata),
  subagentRunId: Opt(Str),
};

type Base = typeof base;

/** An event's schema: its type, the common fields, and its own (which may redefine a common one). */
function event<T extends string, P extends TProperties>(
  type: T,
  fields: P,
): TObject<{ type: TLiteral<T> } & Omit<Base, keyof P> & P> {
  return Type.Object({ type: Type.Literal(type), ...base, ...fields }) as never;
}

export const AgUiTextRole = Type.Union([
  Type.Literal('developer'),
  Type.Literal('system'),
  Type.Literal('assistant'),
  Type.Literal('user'),
]);
export type AgUiTextRole = Static<typeof AgUiTextRole>;

export const AgUiToolCall = Type.Object({
  id: Str,
  type: Type.Literal('function'),
  function: Type.Object({ name: Str, arguments: Str }),
  encryptedValue: Opt(Str),
  metadata: Opt(Metadata),
});
export type AgUiToolCall = Static<typeof AgUiToolCall>;

/** Text, or multimodal parts (kept opaque: agentwire only reads their `text`). */
const Content = Type.Union([Str, Type.Array(Type.Object({ type: Str }))]);

const messageBase = {
  id: Str,
  name: Opt(Str),
  subagentRunId: Opt(Str),
  encryptedValue: Opt(Str),
  metadata: Opt(Metadata),
};

export const AgUiMessage = Type.Union([
  Type.Object({ ...messageBase, role: Type.Literal('developer'), content: Str }),
  Type.Object({ ...messageBase, role: Type.Literal('system'), content: Str }),
  Type.Object({
    ...messageBase,
    role: Type.Literal('assistant'),
    content: Opt(Str),
    toolCalls: Opt(Type.Array(AgUiToolCall)),
  }),
  Type.Object({ ...messageBase, role: Type.Literal('user'), content: Content }),
  Type.Object({
    ...messageBase,
    role: Type.Literal('tool'),
    content: Content,
    toolCallId: Str,
    error: Opt(Str),
  }),
  Type.Object({
    ...messageBase,
    role: Type.Literal('activity'),
    activityType: Str,
    content: Metadata,
  }),
  Type.Object({ ...messageBase, role: Type.Literal('reasoning'), content: Str }),
]);
export type AgUiMessage = Static<typeof AgUiMessage>;

const JsonPatchOp = Type.Object({
  op: Type.Union(['add', 'remove', 'replace', 'move', 'copy', 'test'].map((op) => Type.Literal(op))),
  path: Str,
  from: Opt(Str),
  value: Opt(Type.Unknown()),
});
export type AgUiJsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export const AgUiInterrupt = Type.Object({
  id: Str,
  reason: Str,
  message: Opt(Str),
  toolCallId: Opt(Str),
  responseSchema: Opt(Metadata),
  expiresAt: Opt(Str),
  subagentRunId: Opt(Str),
  metadata: Opt(Metadata),
});
export type AgUiInterrupt = Static<typeof AgUiInterrupt>;

export const AgUiRunOutcome = Type.Union([
  Type.Object({ type: Type.Literal('success'), pendingToolCallIds: Opt(Type.Array(Str)) }),
  Type.Object({ type: Type.Literal('interrupt'), interrupts: Type.Array(AgUiInterrupt, { minItems: 1 }) }),
  Type.Object({ type: Type.Literal('cancelled') }),
]);

const SubagentOutcome = Type.Union([
  Type.Object({ type: Type.Literal('success') }),
  Type.Object({ type: Type.Literal('suspended'), interruptIds: Opt(Type.Array(Str)) }),
]);

const messageId = { messageId: Str };
const toolCallId = { toolCallId: Str };

/** One schema per event type, so a parse error names the field rather than "no union member". */
export const agUiEventSchemas = {
  TEXT_MESSAGE_START: event('TEXT_MESSAGE_START', { ...messageId, role: Opt(AgUiTextRole), name: Opt(Str) }),
  TEXT_MESSAGE_CONTENT: event('TEXT_MESSAGE_CONTENT', { ...messageId, delta: Str }),
  TEXT_MESSAGE_END: event('TEXT_MESSAGE_END', messageId),
  TEXT_MESSAGE_CHUNK: event('TEXT_MESSAGE_CHUNK', {
    messageId: Opt(Str),
    role: Opt(AgUiTextRole),
    delta: Opt(Str),
    name: Opt(Str),
  }),
  TOOL_CALL_START: event('TOOL_CALL_START', {
    ...toolCallId,
    toolCallName: Str,
    parentMessageId: Opt(Str),
  }),
  TOOL_CALL_ARGS: event('TOOL_CALL_ARGS', { ...toolCallId, delta: Str }),
  TOOL_CALL_END: event('TOOL_CALL_END', toolCallId),
  TOOL_CALL_CHUNK: event('TOOL_CALL_CHUNK', {
    toolCallId: Opt(Str),
    toolCallName: Opt(Str),
    parentMessageId: Opt(Str),
    delta: Opt(Str),
  }),
  TOOL_CALL_RESULT: event('TOOL_CALL_RESULT', {
    ...messageId,
    ...toolCallId,
    content: Content,
    role: Opt(Type.Literal('tool')),
  }),
  STATE_SNAPSHOT: event('STATE_SNAPSHOT', { snapshot: Type.Unknown() }),
  STATE_DELTA: event('STATE_DELTA', { delta: Type.Array(JsonPatchOp) }),
  MESSAGES_SNAPSHOT: event('MESSAGES_SNAPSHOT', { messages: Type.Array(AgUiMessage) }),
  ACTIVITY_SNAPSHOT: event('ACTIVITY_SNAPSHOT', {
    ...messageId,
    activityType: Str,
    content: Metadata,
    replace: Opt(Type.Boolean()),
  }),
  ACTIVITY_DELTA: event('ACTIVITY_DELTA', {
    ...messageId,
    activityType: Str,
    patch: Type.Array(JsonPatchOp),
  }),
  RAW: event('RAW', { event: Type.Unknown(), source: Opt(Str) }),
  CUSTOM: event('CUSTOM', { name: Str, value: Type.Unknown() }),
  RUN_STARTED: event('RUN_STARTED', {
    threadId: Str,
    runId: Str,
    protocolVersion: Opt(Str),
    parentRunId: Opt(Str),
    input: Opt(Type.Unknown()),
  }),
  RUN_FINISHED: event('RUN_FINISHED', {
    threadId: Str,
    runId: Str,
    result: Opt(Type.Unknown()),
    outcome: Opt(AgUiRunOutcome),
    usage: Opt(Type.Array(Type.Object({}))),
  }),
  RUN_ERROR: event('RUN_ERROR', { message: Str, code: Opt(Str), usage: Opt(Type.Array(Type.Object({}))) }),
  STEP_STARTED: event('STEP_STARTED', { stepName: Str }),
  STEP_FINISHED: event('STEP_FINISHED', { stepName: Str }),
  REASONING_START: event('REASONING_START', messageId),
  REASONING_MESSAGE_START: event('REASONING_MESSAGE_START', {
    ...messageId,
    role: Type.Literal('reasoning'),
  }),
  REASONING_MESSAGE_CONTENT: event('REASONING_MESSAGE_CONTENT', { ...messageId, delta: Str }),
  REASONING_MESSAGE_END: event('REASONING_MESSAGE_END', messageId),
  REASONING_MESSAGE_CHUNK: event('REASONING_MESSAGE_CHUNK', { messageId: Opt(Str), delta: Opt(Str) }),
  REASONING_END: event('REASONING_END', messageId),
  REASONING_ENCRYPTED_VALUE: event('REASONING_ENCRYPTED_VALUE', {
    subtype: Type.Union([Type.Literal('tool-call'), Type.Literal('message')]),
    entityId: Str,
    encryptedValue: Str,
  }),
  SUBAGENT_STARTED: event('SUBAGENT_STARTED', {
    subagentRunId: Str,
    name: Str,
    description: Opt(Str),
    parentSubagentRunId: Opt(Str),
    parentToolCallId: Opt(Str),
    parentMessageId: Opt(Str),
  }),
  SUBAGENT_FINISHED: event('SUBAGENT_FINISHED', {
    subagentRunId: Str,
    result: Opt(Type.Unknown()),
    outcome: Opt(SubagentOutcome),
  }),
  SUBAGENT_ERROR: event('SUBAGENT_ERROR', { subagentRunId: Str, message: Str, code: Opt(Str) }),
} satisfies { [T in string]: TObject };

export type AgUiEventType = keyof typeof agUiEventSchemas;
export type AgUiEventOf<T extends AgUiEventType> = Static<(typeof agUiEventSchemas)[T]>;
/** Any AG-UI 1.0 event. */
export type AgUiEvent = { [T in AgUiEventType]: AgUiEventOf<T> }[AgUiEventType];

export const agUiEventTypes = Object.keys(agUiEventSchemas) as AgUiEventType[];

export function isAgUiEventType(value: unknown): value is AgUiEventType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(agUiEventSchemas, value);
}
