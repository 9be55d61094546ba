import { Type } from '@sinclair/typebox';
import { Duration, Id, Text } from './common.js';

export const QuestionOption = Type.Object({
  value: Type.String({ minLength: 1, maxLength: 500 }),
  label: Type.Optional(Type.String({ maxLength: 500 })),
});

/** Human in the loop: an agent asks, a watcher answers (or the question times out). */
export const questionEvents = {
  'question:asked': Type.Object({
    questionId: Id,
    prompt: Text(10_000),
    agentId: Type.Optional(Id),
    options: Type.Optional(Type.Array(QuestionOption, { minItems: 1, maxItems: 50 })),
    schema: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema' })),
    timeoutMs: Type.Optional(Duration),
  }),
  'question:answered': Type.Object({
    questionId: Id,
    answer: Type.Unknown(),
    by: Type.Optional(Type.String({ maxLength: 256 })),
    timedOut: Type.Optional(Type.Boolean()),
  }),
};
