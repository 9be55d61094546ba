import { Type } from '@sinclair/typebox';
import { ErrorInfo, Id, Text } from './common.js';

export const agentEvents = {
  'agent:spawned': Type.Object({
    agentId: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: Type.Optional(Type.String({ maxLength: 200 })),
    model: Type.Optional(Type.String({ maxLength: 200 })),
    parentId: Type.Optional(Id),
  }),
  'agent:progress': Type.Object({
    agentId: Id,
    status: Type.Optional(Type.String({ maxLength: 100 })),
    activity: Type.Optional(Text(2_000)),
    percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  }),
  'agent:complete': Type.Object({
    agentId: Id,
    result: Type.Optional(Type.Unknown()),
    summary: Type.Optional(Text(20_000)),
  }),
  'agent:failed': Type.Object({ agentId: Id, error: ErrorInfo }),
  'agent:handoff': Type.Object({
    from: Id,
    to: Id,
    reason: Type.Optional(Text(2_000)),
    context: Type.Optional(Type.Unknown()),
  }),
};
