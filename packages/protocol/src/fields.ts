import { Type } from '@sinclair/typebox';
import { STREAM_NAME_PATTERN } from './streams.js';

// The envelope's fields, apart from the envelope: event schemas that embed an envelope's fields
// (a project stream's copy of a task event) use them without importing the catalog.
export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const EventId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' });
export const StreamName = Type.String({ pattern: STREAM_NAME_PATTERN, maxLength: 161 });
export const Epoch = Type.String({ minLength: 1, maxLength: 64 });
