import assert from 'node:assert/strict';
import { httpAnswerIssue } from '@agentwire/protocol';
import type { TSchema } from '@sinclair/typebox';

/** Fails unless `value` is a valid answer of `schema` (one of @agentwire/protocol's `httpAnswerSchemas`). */
export function matchesSchema(schema: TSchema, value: unknown, what: string): void {
  const issue = httpAnswerIssue(schema, value);
  assert.equal(issue, undefined, `${what} does not match its schema: ${issue}\n${JSON.stringify(value)}`);
}
