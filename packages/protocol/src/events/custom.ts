import { Type } from '@sinclair/typebox';

/** The escape hatch for a producer's own events; `name` is theirs, the payload is opaque to us. */
export const customEvents = {
  'custom:event': Type.Object({
    name: Type.String({ minLength: 1, maxLength: 200 }),
    payload: Type.Optional(Type.Unknown()),
  }),
};
