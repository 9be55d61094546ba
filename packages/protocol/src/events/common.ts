import { Type, type Static } from '@sinclair/typebox';

export const Id = Type.String({ minLength: 1, maxLength: 128 });
export const Text = (maxLength = 10_000) => Type.String({ maxLength });
export const Duration = Type.Number({ minimum: 0, description: 'milliseconds' });

export const ErrorInfo = Type.Object(
  {
    message: Text(4_000),
    code: Type.Optional(Type.String({ maxLength: 128 })),
    stack: Type.Optional(Text(20_000)),
  },
  { $id: 'ErrorInfo' },
);
export type ErrorInfo = Static<typeof ErrorInfo>;
