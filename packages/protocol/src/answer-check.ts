import { AgentwireError } from './errors.js';
import { schemaIssue, unsupportedSchema, type SchemaIssue } from './json-schema.js';

/** What a question constrains its answers with (the `question:asked` fields that matter here). */
export interface AnswerSpec {
  options?: readonly { value: string }[];
  schema?: Record<string, unknown>;
}

/**
 * Why `answer` does not answer the question, or undefined when it does. With `options` the answer
 * is one option's `value`; with `schema` it conforms to it; with both, both apply; with neither,
 * any value is an answer. The gateway, the agent SDK and the client SDK all call this, so a client
 * can check an answer before sending it and get the same verdict the gateway will give.
 */
export function answerIssue(spec: AnswerSpec, answer: unknown): SchemaIssue | undefined {
  if (answer === undefined) return { path: '', message: 'an answer is required' };
  if (spec.options !== undefined) {
    if (typeof answer !== 'string' || !spec.options.some((o) => o.value === answer)) {
      const values = spec.options.map((o) => JSON.stringify(o.value)).join(', ');
      return { path: '', message: `expected one of ${values}` };
    }
  }
  if (spec.schema !== undefined) {
    const unsupported = unsupportedSchema(spec.schema);
    if (unsupported)
      return { path: '', message: `the question's schema cannot be checked: ${unsupported.message}` };
    return schemaIssue(spec.schema, answer);
  }
  return undefined;
}

/** `answerIssue` as a typed `invalid_answer` error, for callers that refuse. */
export function assertAnswer(spec: AnswerSpec, answer: unknown): void {
  const issue = answerIssue(spec, answer);
  if (issue) {
    const where = issue.path === '' ? '' : ` at ${issue.path}`;
    throw new AgentwireError('invalid_answer', `Invalid answer${where}: ${issue.message}.`, {
      path: issue.path || '/',
    });
  }
}
