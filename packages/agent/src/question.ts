import { AgentwireError, unsupportedSchema, type EventData } from '@agentwire/protocol';

export type QuestionOption = NonNullable<EventData<'question:asked'>['options']>[number];

export interface AskOptions<D = undefined> {
  /** The answers watchers may pick from; an answer is one option's value. */
  options?: readonly (string | QuestionOption)[];
  /** JSON Schema (the subset in docs/protocol.md) an answer must conform to. */
  schema?: Record<string, unknown>;
  /** Milliseconds to wait; then the gateway closes the question and `ask` resolves as timed out. */
  timeout?: number;
  /** The agent asking, for watchers' agent tree. */
  agent?: { id: string } | string;
  /** What a timed-out `ask` resolves with as `answer`. */
  default?: D;
  /** Stops waiting (rejecting with its reason) when it aborts; the task's own signal always does. */
  signal?: AbortSignal;
  questionId?: string;
}

export type AskResult<T = unknown, D = undefined> =
  | { timedOut: false; questionId: string; answer: T; by?: string }
  | { timedOut: true; questionId: string; answer: D };

interface Waiting {
  resolve(delivered: { answer: unknown; by?: string; timedOut: boolean }): void;
}

/** The questions a task is waiting on, by id: where delivered answers find their `ask`. */
export class PendingQuestions {
  private readonly waiting = new Map<string, Waiting>();

  /** Registers before the question is published, so an answer can never arrive too early. */
  wait(questionId: string): Promise<{ answer: unknown; by?: string; timedOut: boolean }> {
    if (this.waiting.has(questionId))
      throw new TypeError(`A question ${JSON.stringify(questionId)} is already waiting.`);
    return new Promise((resolve) => this.waiting.set(questionId, { resolve }));
  }

  /** Hands an answer to its `ask`; false when nobody waits for it (answered, timed out, abandoned). */
  deliver(questionId: string, answer: unknown, by: string | undefined, timedOut: boolean): boolean {
    const w = this.waiting.get(questionId);
    if (!w) return false;
    this.waiting.delete(questionId);
    w.resolve({ answer, timedOut, ...(by !== undefined && { by }) });
    return true;
  }

  forget(questionId: string): void {
    this.waiting.delete(questionId);
  }
}

/** Normalizes and checks `ask` options before anything is published. */
export function questionFields(
  options: AskOptions<unknown>,
): Pick<EventData<'question:asked'>, 'options' | 'schema' | 'timeoutMs'> {
  const fields: Pick<EventData<'question:asked'>, 'options' | 'schema' | 'timeoutMs'> = {};
  if (options.options !== undefined) {
    fields.options = options.options.map((o) => (typeof o === 'string' ? { value: o } : o));
  }
  if (options.schema !== undefined) {
    const issue = unsupportedSchema(options.schema);
    if (issue) {
      throw new AgentwireError(
        'invalid_payload',
        `ask(): the schema cannot be checked: ${issue.message} at ${issue.path || '/'}.`,
        {
          path: `/schema${issue.path}`,
        },
      );
    }
    fields.schema = options.schema;
  }
  if (options.timeout !== undefined) {
    if (!(options.timeout > 0) || !Number.isFinite(options.timeout)) {
      throw new RangeError(
        `ask(): timeout must be a positive number of milliseconds, got ${options.timeout}.`,
      );
    }
    fields.timeoutMs = Math.round(options.timeout);
  }
  return fields;
}
