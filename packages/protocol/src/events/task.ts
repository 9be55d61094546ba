import { Type } from '@sinclair/typebox';
import { Duration, ErrorInfo, Id, Text } from './common.js';

export const taskEvents = {
  'task:start': Type.Object({
    taskId: Id,
    title: Text(500),
    kind: Type.Optional(Type.String({ maxLength: 128 })),
    projectId: Type.Optional(Id),
    input: Type.Optional(Type.Unknown()),
    stages: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 })),
    estimatedMs: Type.Optional(Duration),
  }),
  'task:progress': Type.Object({
    percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    message: Type.Optional(Text(2_000)),
    current: Type.Optional(Type.Number({ minimum: 0 })),
    total: Type.Optional(Type.Number({ minimum: 0 })),
  }),
  'task:stage': Type.Object({
    stage: Type.String({ minLength: 1, maxLength: 200 }),
    message: Type.Optional(Text(2_000)),
  }),
  'task:complete': Type.Object({
    result: Type.Optional(Type.Unknown()),
    summary: Type.Optional(Text(20_000)),
  }),
  'task:failed': Type.Object({
    error: ErrorInfo,
    reason: Type.Optional(
      Type.Union([Type.Literal('error'), Type.Literal('orphaned'), Type.Literal('timeout')]),
    ),
  }),
  'task:cancelled': Type.Object({
    by: Type.Optional(Type.String({ maxLength: 256 })),
    reason: Type.Optional(Text(2_000)),
    agentId: Type.Optional(Id),
  }),
};
