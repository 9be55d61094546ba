import { Type, type Static } from '@sinclair/typebox';
import { Id, Text } from './events/common.js';
import { StreamName } from './envelope.js';

/**
 * Commands travel from watchers back to the producer that owns a task. Each is acknowledged (or
 * refused with a typed error) to its sender, and its effect is itself an event in the stream.
 */
export const CancelCommand = Type.Object(
  {
    type: Type.Literal('cancel'),
    stream: StreamName,
    agentId: Type.Optional(Id),
    reason: Type.Optional(Text(2_000)),
  },
  { additionalProperties: false },
);

export const AnswerCommand = Type.Object(
  {
    type: Type.Literal('answer'),
    stream: StreamName,
    questionId: Id,
    answer: Type.Unknown(),
  },
  { additionalProperties: false },
);

export const MessageCommand = Type.Object(
  { type: Type.Literal('message'), stream: StreamName, text: Text(20_000) },
  { additionalProperties: false },
);

export const StartCommand = Type.Object(
  {
    type: Type.Literal('start'),
    kind: Type.String({ minLength: 1, maxLength: 128 }),
    input: Type.Optional(Type.Unknown()),
    taskId: Type.Optional(Id),
    title: Type.Optional(Text(500)),
    projectId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const CommandSchema = Type.Union([CancelCommand, AnswerCommand, MessageCommand, StartCommand], {
  $id: 'Command',
});
export type Command = Static<typeof CommandSchema>;
export type CommandType = Command['type'];
