import { unsupportedSchema } from '@agentwire/protocol';
import type { QuestionOption } from '@agentwire/agent';
import { isRecord, type InterruptInfo } from './chunks.js';
import { toJsonSafe } from './json-safe.js';

/** An `interrupt()` as the question watchers see, and how their answer resumes the graph. */
export interface InterruptQuestion {
  prompt: string;
  /** The answers watchers may pick from. */
  options?: readonly (string | QuestionOption)[];
  /** JSON Schema an answer must match (the subset in docs/protocol.md). */
  schema?: Record<string, unknown>;
  /** Milliseconds to wait for an answer. */
  timeout?: number;
  /**
   * What the graph resumes with when the question times out. Without it, a timed-out question
   * fails the run with the `timeout` code.
   */
  default?: unknown;
  /** Turns a watcher's answer into the value `interrupt()` returns; the answer itself by default. */
  resume?: (answer: unknown) => unknown;
}

/** An interrupt as the graph raised it: its id, its value, the JSON Schema of its expected answer. */
export type GraphInterruptInfo = InterruptInfo;

const MAX_PROMPT = 10_000;

/**
 * The default reading of an interrupt's value: a string is the prompt; an object gives its
 * `question`, `prompt` or `message` as the prompt and its `options` (strings or
 * `{ value, label }`) as the choices; anything else is shown as JSON. A `responseSchema` given to
 * `interrupt()` becomes the question's schema when the gateway can check it.
 */
export function defaultQuestion(interrupt: GraphInterruptInfo): InterruptQuestion {
  const { value } = interrupt;
  const question: InterruptQuestion = { prompt: '' };
  if (typeof value === 'string') question.prompt = value;
  else if (isRecord(value)) {
    const text = [value.question, value.prompt, value.message].find((t) => typeof t === 'string');
    question.prompt = typeof text === 'string' ? text : JSON.stringify(toJsonSafe(value));
    const options = optionsOf(value.options);
    if (options) question.options = options;
  } else {
    question.prompt = JSON.stringify(toJsonSafe(value)) ?? 'The graph is waiting for input.';
  }
  if (interrupt.responseSchema && unsupportedSchema(interrupt.responseSchema) === undefined) {
    question.schema = interrupt.responseSchema;
  }
  return question;
}

/** The prompt within the catalog's limit. */
export function clipPrompt(prompt: string): string {
  if (prompt === '') return 'The graph is waiting for input.';
  return prompt.length > MAX_PROMPT ? `${prompt.slice(0, MAX_PROMPT - 1)}…` : prompt;
}

// The catalog's limits on a question's options; beyond them the options are left out, not cut.
const MAX_OPTIONS = 50;
const MAX_OPTION = 500;

function optionsOf(raw: unknown): QuestionOption[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_OPTIONS) return undefined;
  const options: QuestionOption[] = [];
  for (const o of raw as unknown[]) {
    if (typeof o === 'string' && o !== '' && o.length <= MAX_OPTION) options.push({ value: o });
    else if (isRecord(o) && typeof o.value === 'string' && o.value !== '' && o.value.length <= MAX_OPTION) {
      const label = typeof o.label === 'string' ? o.label.slice(0, MAX_OPTION) : undefined;
      options.push({ value: o.value, ...(label !== undefined && { label }) });
    } else return undefined;
  }
  return options;
}
