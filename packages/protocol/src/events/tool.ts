import { Type } from '@sinclair/typebox';
import { Duration, ErrorInfo, Id } from './common.js';

export const toolEvents = {
  'tool:executing': Type.Object({
    callId: Id,
    tool: Type.String({ minLength: 1, maxLength: 200 }),
    agentId: Type.Optional(Id),
    args: Type.Optional(Type.Unknown()),
    attempt: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
  'tool:complete': Type.Object({
    callId: Id,
    tool: Type.Optional(Type.String({ maxLength: 200 })),
    agentId: Type.Optional(Id),
    durationMs: Duration,
    result: Type.Optional(Type.Unknown()),
  }),
  'tool:failed': Type.Object({
    callId: Id,
    tool: Type.Optional(Type.String({ maxLength: 200 })),
    agentId: Type.Optional(Id),
    error: ErrorInfo,
    durationMs: Type.Optional(Duration),
    retryable: Type.Optional(Type.Boolean()),
  }),
};
