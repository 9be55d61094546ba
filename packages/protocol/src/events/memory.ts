import { Type } from '@sinclair/typebox';
import { Id, Text } from './common.js';

export const memoryEvents = {
  'memory:recalled': Type.Object({
    agentId: Type.Optional(Id),
    query: Type.Optional(Text(2_000)),
    memories: Type.Array(
      Type.Object({
        id: Type.Optional(Id),
        content: Text(20_000),
        score: Type.Optional(Type.Number()),
        source: Type.Optional(Type.String({ maxLength: 500 })),
      }),
      { maxItems: 200 },
    ),
  }),
};
