import { Type } from '@sinclair/typebox';
import { Text } from './common.js';

export const systemEvents = {
  'system:health': Type.Object({
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
    checks: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown())),
  }),
  'system:performance': Type.Object({
    metrics: Type.Record(Type.String({ maxLength: 200 }), Type.Number()),
  }),
  'system:alert': Type.Object({
    severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    message: Text(4_000),
    source: Type.Optional(Type.String({ maxLength: 200 })),
  }),
};
