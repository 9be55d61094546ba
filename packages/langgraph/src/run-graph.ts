import type { TaskHandle } from '@agentwire/agent';
import { AgentwireError } from '@agentwire/protocol';
import { Command, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { parseChunk, STREAM_MODES, type InterruptInfo } from './chunks.js';
import type { NodeMapping } from './graph-nodes.js';
import { GraphRun } from './graph-run.js';
import {
  clipPrompt,
  defaultQuestion,
  type GraphInterruptInfo,
  type InterruptQuestion,
} from './interrupt-question.js';
import { toJsonSafe } from './json-safe.js';
import { TaskWriter } from './task-writer.js';

/** What `runGraph` needs of a graph: what `StateGraph#compile()` returns has it. */
export interface GraphLike<Input = unknown, Output = unknown> {
  invoke(input: Input, options?: never): Promise<Output>;
  stream(input: Input, options?: never): Promise<AsyncIterable<unknown>>;
}

export interface RunGraphOptions<Output = unknown> {
  /**
   * The run's config, as for `graph.stream()`. `configurable.thread_id` defaults to the task id,
   * so a graph with a checkpointer needs nothing more to be interrupted and resumed. A `signal`
   * given here stops the run too, and cancels the task.
   */
  config?: LangGraphRunnableConfig;
  /** Graph nodes as agents (the default), as the task's stages, or chosen per node. */
  nodes?: NodeMapping;
  /** How an `interrupt()` reads as a question; `defaultQuestion` describes the default. */
  question?: (interrupt: GraphInterruptInfo) => InterruptQuestion;
  /** What `task:complete` carries; by default the final state, with messages as plain objects. */
  result?: (state: Output) => unknown;
  /**
   * Whether the run ends the task: completes it with the result, or fails it when the graph
   * throws. Default true; false leaves the task open for more work.
   */
  end?: boolean;
}

interface Streaming {
  stream(input: unknown, options: Record<string, unknown>): Promise<AsyncIterable<unknown>>;
}

/**
 * Runs a LangGraph graph as (part of) an agentwire task and resolves with its final state. Nodes
 * become agents or stages, chat model tokens stream as messages, tool calls as `tool:*` events;
 * each `interrupt()` is asked as a question and the graph resumes with the watcher's answer
 * (`new Command({ resume })`). The task's cancel signal is the run's `signal`: a watcher's cancel
 * stops the graph, and nothing the graph still does is published after `task:cancelled`. A cancel
 * rejects with the abort reason; a graph error fails the task (see `end`) and rejects with it.
 */
export async function runGraph<Input, Output>(
  task: TaskHandle,
  graph: GraphLike<Input, Output>,
  input: Input,
  options: RunGraphOptions<Output> = {},
): Promise<Output> {
  const { config = {}, end = true } = options;
  const external = config.signal;
  const signal = external ? AbortSignal.any([task.signal, external]) : task.signal;
  signal.throwIfAborted();
  const writer = new TaskWriter(task);
  const run = new GraphRun(writer, options.nodes);
  const onAbort = () => {
    // Ends reach the gateway before a watcher's cancel is recorded (it waits for them); then the
    // writer shuts, and whatever the graph's nodes keep doing goes nowhere.
    run.messages.endAll(true);
    writer.close();
    if (end && !task.signal.aborted && !task.ended) {
      void task.cancel({ reason: reasonText(external?.reason) }).catch(() => undefined);
    }
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const streamOptions = {
    ...config,
    configurable: { thread_id: task.id, ...config.configurable },
    signal,
    streamMode: [...STREAM_MODES],
    subgraphs: true,
  };
  try {
    let next: unknown = input;
    let state: unknown;
    for (;;) {
      const interrupts: InterruptInfo[] = [];
      const stream = await (graph as unknown as Streaming).stream(next, streamOptions);
      for await (const raw of stream) {
        if (!writer.isOpen) break;
        const chunk = parseChunk(raw);
        if (chunk === undefined) continue;
        if (chunk.ns.length === 0 && chunk.mode === 'values') state = chunk.values;
        else if (chunk.ns.length === 0 && chunk.mode === 'interrupts') interrupts.push(...chunk.interrupts);
        else run.handle(chunk);
        await writer.pace();
      }
      signal.throwIfAborted();
      if (interrupts.length === 0) break;
      const resume = await answer(task, run, interrupts, options.question ?? defaultQuestion, signal);
      next = new Command({ resume });
    }
    run.finished();
    if (end) await complete(task, options.result ? options.result(state as Output) : toJsonSafe(state));
    else await writer.settled();
    return state as Output;
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    run.messages.endAll();
    if (end && !task.ended) {
      const timedOut = err instanceof AgentwireError && err.code === 'timeout';
      await task.fail(err, { reason: timedOut ? 'timeout' : 'error' }).catch(() => undefined);
    } else {
      await writer.settled();
    }
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    writer.close();
  }
}

/**
 * Asks every interrupt of a pause at once and builds the resume value: the one answer, or for
 * several interrupts (parallel nodes) a map from interrupt id to answer, as LangGraph expects.
 */
async function answer(
  task: TaskHandle,
  run: GraphRun,
  raised: InterruptInfo[],
  toQuestion: (interrupt: GraphInterruptInfo) => InterruptQuestion,
  signal: AbortSignal,
): Promise<unknown> {
  const interrupts = [...new Map(raised.map((i, k) => [i.id ?? k, i])).values()];
  if (interrupts.length > 1 && interrupts.some((i) => i.id === undefined)) {
    throw new AgentwireError('internal', 'Several interrupts without ids cannot be resumed at once.');
  }
  // When one question fails the pause (it timed out), the others stop waiting too.
  const giveUp = new AbortController();
  const asking = AbortSignal.any([signal, giveUp.signal]);
  const answers = await Promise.all(
    interrupts.map(async (interrupt) => {
      const q = toQuestion(interrupt);
      const prompt = clipPrompt(q.prompt);
      const agent = run.agentOfInterrupt(interrupt.id);
      const result = await task.ask(prompt, {
        ...(q.options !== undefined && { options: q.options }),
        ...(q.schema !== undefined && { schema: q.schema }),
        ...(q.timeout !== undefined && { timeout: q.timeout }),
        ...(agent !== undefined && { agent }),
        ...(interrupt.id !== undefined && interrupt.id.length <= 128 && { questionId: interrupt.id }),
        signal: asking,
      });
      if (result.timedOut) {
        if (!('default' in q)) {
          throw new AgentwireError(
            'timeout',
            `Nobody answered ${JSON.stringify(prompt)} in ${q.timeout} ms.`,
          );
        }
        return q.default;
      }
      return q.resume ? q.resume(result.answer) : result.answer;
    }),
  ).finally(() => giveUp.abort());
  if (interrupts.length === 1) return answers[0];
  return Object.fromEntries(interrupts.map((i, k) => [i.id!, answers[k]]));
}

/**
 * Completes the task with the result; a result the gateway refuses (larger than its request
 * limit, or not JSON) still completes the task, without the result and saying why.
 */
async function complete(task: TaskHandle, result: unknown): Promise<void> {
  try {
    await task.complete(result);
  } catch (err) {
    if (
      !(err instanceof AgentwireError) ||
      (err.code !== 'payload_too_large' && err.code !== 'invalid_payload')
    ) {
      throw err;
    }
    await task.emit('task:complete', {
      summary: `The result was not published (${err.code}): ${err.message}`.slice(0, 2_000),
    });
  }
}

function reasonText(reason: unknown): string {
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'Aborted.';
  return text.slice(0, 2_000);
}
