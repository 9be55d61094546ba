import {
  AgentwireError,
  parseAgUiRunInput,
  unsupportedSchema,
  type AgUiInterrupt,
  type AgUiResumeEntry,
  type AgUiRunInput,
} from '@agentwire/protocol';
import { newId } from '../ids.js';
import type { Producer } from '../producer.js';
import type { TaskHandle } from '../task.js';
import type { Worker, WorkerOptions } from '../worker.js';
import { fromAgUi } from './from-agui.js';
import { sseJson } from './sse-events.js';

export interface AgUiAgentOptions {
  /** The AG-UI agent's endpoint: it takes a `RunAgentInput` by POST and answers with SSE. */
  url: string;
  /** Sent with every request (an `Authorization` the agent wants, say). */
  headers?: Record<string, string>;
  /** Passed to the agent as `forwardedProps` (the task input's own come first). */
  forwardedProps?: Record<string, unknown>;
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
}

/**
 * Runs the AG-UI agent at `options.url` as `task`: posts a `RunAgentInput` (thread = the task),
 * pipes the events it streams back into the task with `fromAgUi`, and ends the task as the run
 * ends. An interrupt becomes a question to the task's watchers, and their answer the resume entry
 * of the next run. A cancel of the task aborts the request, which is how AG-UI stops an agent.
 *
 * `input` is the task's: a string (the prompt), or `{prompt?, messages?, state?, context?, tools?,
 * forwardedProps?}`, which is what the gateway's own AG-UI surface starts tasks with.
 */
export async function runAgUiAgent(
  task: TaskHandle,
  input: unknown,
  options: AgUiAgentOptions,
): Promise<unknown> {
  const base = runInput(task.id, input, options.forwardedProps);
  const known = base.messages.map((m) => m.id);
  let resume: AgUiResumeEntry[] | undefined;
  for (;;) {
    const body: AgUiRunInput = { ...base, runId: newId(), ...(resume && { resume }) };
    const response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      headers: { ...options.headers, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal: task.signal,
    });
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      throw new AgentwireError(
        'unavailable',
        `The AG-UI agent at ${options.url} answered HTTP ${response.status}${text ? `: ${text.slice(0, 500)}` : ''}.`,
      );
    }
    const outcome = await fromAgUi(sseJson(response.body), { task, endTask: false, knownMessageIds: known });
    switch (outcome.type) {
      case 'success':
        return outcome.result;
      case 'interrupt':
        resume = await askWatchers(task, outcome.interrupts);
        continue;
      case 'cancelled':
        // Ours (the signal aborted the request), or the agent's own: either way the task stops.
        task.signal.throwIfAborted();
        await task.cancel({ reason: 'The AG-UI agent cancelled its run.' });
        return undefined;
      case 'error':
        throw Object.assign(
          new Error(outcome.message),
          outcome.code !== undefined ? { code: outcome.code } : {},
        );
      case 'ended':
        throw new AgentwireError(
          'unavailable',
          `The AG-UI agent at ${options.url} ended its stream before the run finished.`,
        );
    }
  }
}

/** Makes `producer` a worker for `kind` that runs each task on the AG-UI agent at `options.url`. */
export function bridgeAgUi(
  producer: Producer,
  options: AgUiAgentOptions & { kind: string } & WorkerOptions,
): Worker {
  const { kind, capacity, ...agent } = options;
  const worker = producer.worker(capacity === undefined ? undefined : { capacity });
  return worker.handle(kind, (task, input) => runAgUiAgent(task, input, agent));
}

/** Each interrupt as a question to the task's watchers; their answers as the resume entries. */
async function askWatchers(task: TaskHandle, interrupts: AgUiInterrupt[]): Promise<AgUiResumeEntry[]> {
  return Promise.all(
    interrupts.map(async (interrupt): Promise<AgUiResumeEntry> => {
      const schema = interrupt.responseSchema;
      const expires = interrupt.expiresAt === undefined ? NaN : Date.parse(interrupt.expiresAt);
      const reply = await task.ask(interrupt.message ?? `The agent needs input (${interrupt.reason}).`, {
        // Our questions take the subset of JSON Schema docs/protocol.md lists; others go unchecked.
        ...(schema && !unsupportedSchema(schema) && { schema }),
        ...(Number.isFinite(expires) && { timeout: Math.max(0, expires - Date.now()) }),
        ...(interrupt.subagentRunId !== undefined && { agent: interrupt.subagentRunId }),
      });
      return reply.timedOut
        ? { interruptId: interrupt.id, status: 'cancelled' }
        : { interruptId: interrupt.id, status: 'resolved', payload: reply.answer };
    }),
  );
}

/** The run's input from the task's: the prompt as a user message unless messages are given. */
function runInput(threadId: string, input: unknown, forwardedProps?: Record<string, unknown>): AgUiRunInput {
  const given: Record<string, unknown> =
    typeof input === 'string'
      ? { prompt: input }
      : typeof input === 'object' && input !== null
        ? (input as Record<string, unknown>)
        : {};
  const prompt = typeof given.prompt === 'string' ? given.prompt : undefined;
  const messages = Array.isArray(given.messages)
    ? given.messages
    : prompt !== undefined
      ? [{ id: newId(), role: 'user', content: prompt }]
      : [];
  const props = {
    ...(typeof given.forwardedProps === 'object' && given.forwardedProps !== null
      ? given.forwardedProps
      : {}),
    ...forwardedProps,
  };
  return parseAgUiRunInput({
    threadId,
    runId: 'pending',
    messages,
    tools: Array.isArray(given.tools) ? given.tools : [],
    context: Array.isArray(given.context) ? given.context : [],
    ...(given.state !== undefined && { state: given.state }),
    ...(Object.keys(props).length > 0 && { forwardedProps: props }),
  });
}
