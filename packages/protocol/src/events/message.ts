import { Type } from '@sinclair/typebox';
import { Id, Text } from './common.js';

export const MessageRole = Type.Union([
  Type.Literal('assistant'),
  Type.Literal('user'),
  Type.Literal('system'),
  Type.Literal('tool'),
]);

/** Token streams: one `message:start`, any number of `message:delta`, one `message:end`. */
export const messageEvents = {
  'message:start': Type.Object({
    messageId: Id,
    role: MessageRole,
    agentId: Type.Optional(Id),
  }),
  'message:delta': Type.Object({ messageId: Id, delta: Text(100_000) }),
  'message:end': Type.Object({ messageId: Id }),
  /** A chat message a watcher sent into a running task. */
  'chat:message': Type.Object({
    messageId: Id,
    text: Text(20_000),
    from: Type.Optional(Type.String({ maxLength: 256 })),
  }),
};
