import { Type } from '@sinclair/typebox';
import { Id, Text } from './common.js';

export const LogLevel = Type.Union([
  Type.Literal('trace'),
  Type.Literal('debug'),
  Type.Literal('info'),
  Type.Literal('warn'),
  Type.Literal('error'),
]);

export const logEvents = {
  'log:entry': Type.Object({
    level: LogLevel,
    message: Text(20_000),
    agentId: Type.Optional(Id),
    fields: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown())),
  }),
};
