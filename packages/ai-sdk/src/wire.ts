import { generateText, NoOutputGeneratedError, streamText } from 'ai';
import type { Agent, OutputInterface, StreamTextTransform, ToolSet } from 'ai';
import { approvalByWatchers } from './approval.js';
import { resumeAgent } from './agent-resume.js';
import { withRunCallbacks, type LifecycleCallbacks } from './callbacks.js';
import { describeCall } from './describe.js';
import { Run, settle, type Outcome } from './run.js';
import { StreamObserver } from './stream-observer.js';
import { checkTarget, type Target, type WireOptions } from './target.js';
import { addUsage } from './usage.js';

type Context = Record<string, unknown>;

/** The AI SDK's entry points, each call a run that watchers see and can cancel and approve. */
export interface Wired {
  /** `streamText` from `ai`, same options and result. */
  streamText: typeof streamText;
  /** `generateText` from `ai`, same options and result. */
  generateText: typeof generateText;
  /**
   * An agent (a `ToolLoopAgent` or any `Agent`) whose every `generate()` and `stream()` call is a
   * run. Tool calls that need approval end an agent's call in the SDK; `generate()` asks the
   * watchers and resumes the call with their answers, `stream()` leaves them to its consumer.
   */
  agent<A extends AgentLike>(agent: A): WiredAgent<A>;
}

/** What `agent()` takes: the SDK's `Agent` interface, whatever its type parameters. */
export interface AgentLike {
  readonly version: 'agent-v1';
  readonly id: string | undefined;
  readonly tools: unknown;
  generate(options: never): PromiseLike<unknown>;
  stream(options: never): PromiseLike<unknown>;
}

/** The wired agent: the same `Agent` surface (and types) as the one given. */
export type WiredAgent<A extends AgentLike> = Pick<A, 'version' | 'id' | 'tools' | 'generate' | 'stream'>;

/** Options every SDK entry point takes that a run adds to or reads. */
interface CallOptions extends LifecycleCallbacks {
  prompt?: unknown;
  messages?: unknown;
  model?: unknown;
  abortSignal?: AbortSignal;
  toolApproval?: unknown;
  experimental_transform?: StreamTextTransform<ToolSet> | StreamTextTransform<ToolSet>[];
}

/**
 * Binds the AI SDK to agentwire: with a producer, each call starts a task (and an agent in it); with a
 * task, each call spawns an agent in that task (or runs as `options.agent`). Steps, token deltas,
 * reasoning, tool calls, errors and usage are published as they happen; a cancel of the task (or
 * agent) aborts the call; a tool call that needs approval becomes a question to the watchers.
 */
export function wire(target: Target, options: WireOptions = {}): Wired {
  checkTarget(target, options);
  const open = (call: CallOptions, agentName: string) =>
    new Run(target, options, describeCall(call, agentName), call.abortSignal);

  const wiredStreamText = (call: CallOptions) => {
    const run = open(call, 'assistant');
    const observer = new StreamObserver(run);
    const result = streamText({
      ...call,
      ...withRunCallbacks(run, call, true),
      abortSignal: run.signal,
      toolApproval: approvalByWatchers(run, call.toolApproval),
      experimental_transform: [...toArray(call.experimental_transform), observer.transform],
    } as Parameters<typeof streamText>[0]);
    void settleStream(run, observer, result);
    return result;
  };

  const wiredGenerateText = async (call: CallOptions) => {
    const run = open(call, 'assistant');
    try {
      const result = await generateText({
        ...call,
        ...withRunCallbacks(run, call, false),
        abortSignal: run.signal,
        toolApproval: approvalByWatchers(run, call.toolApproval),
      } as Parameters<typeof generateText>[0]);
      await settle(run, {
        text: result.text,
        finishReason: result.finishReason,
        usage: result.usage,
        steps: result.steps.length,
      });
      return result;
    } catch (err) {
      await run.fail(err);
      throw err;
    }
  };

  return {
    streamText: wiredStreamText as unknown as typeof streamText,
    generateText: wiredGenerateText as unknown as typeof generateText,
    agent: (agent) => wireAgent(agent, open),
  };
}

function wireAgent<A extends AgentLike>(
  agent: A,
  open: (call: CallOptions, agentName: string) => Run,
): WiredAgent<A> {
  type Loose = Agent<unknown, ToolSet, Context, OutputInterface>;
  type GenerateParams = Parameters<Loose['generate']>[0];
  type StreamParams = Parameters<Loose['stream']>[0];
  const inner = agent as unknown as Loose;
  const name = agent.id ?? 'agent';
  const wired: Loose = {
    version: 'agent-v1',
    get id() {
      return inner.id;
    },
    get tools() {
      return inner.tools;
    },
    async generate(params: GenerateParams) {
      const given = params as CallOptions;
      const run = open(given, name);
      let call = params;
      let usage: Outcome['usage'] | undefined;
      let steps = 0;
      try {
        for (;;) {
          const result = await inner.generate({
            ...call,
            ...withRunCallbacks(run, call as CallOptions, false),
            abortSignal: run.signal,
          } as GenerateParams);
          usage = usage === undefined ? result.usage : addUsage(usage, result.usage);
          steps += result.steps.length;
          const next = await resumeAgent(run, call, result);
          if (next === undefined) {
            await settle(run, { text: result.text, finishReason: result.finishReason, usage, steps });
            return result;
          }
          call = next as GenerateParams;
        }
      } catch (err) {
        await run.fail(err);
        throw err;
      }
    },
    async stream(params: StreamParams) {
      const given = params as CallOptions;
      const run = open(given, name);
      const observer = new StreamObserver(run);
      try {
        const result = await inner.stream({
          ...params,
          ...withRunCallbacks(run, given, true),
          abortSignal: run.signal,
          experimental_transform: [...toArray(given.experimental_transform), observer.transform],
        } as unknown as StreamParams);
        void settleStream(run, observer, result);
        return result;
      } catch (err) {
        await run.fail(err);
        throw err;
      }
    },
  };
  return wired as unknown as WiredAgent<A>;
}

interface StreamOutcome {
  finishReason: PromiseLike<string>;
  usage: PromiseLike<Outcome['usage']>;
  steps: PromiseLike<unknown[]>;
  text: PromiseLike<string>;
}

/**
 * The stream observer ends a streaming run at its `finish` part; this catches the ways a stream ends
 * without one (it errored, or a transform before ours dropped it). Ending a run twice does nothing.
 */
async function settleStream(run: Run, observer: StreamObserver, result: StreamOutcome): Promise<void> {
  try {
    const [finishReason, usage, steps, text] = await Promise.all([
      result.finishReason,
      result.usage,
      result.steps,
      result.text,
    ]);
    await settle(run, { text, finishReason, usage, steps: steps.length }, observer.lastError);
  } catch (err) {
    // "No output generated" says only that the stream carried an error; that error is the cause.
    await run.fail(
      NoOutputGeneratedError.isInstance(err) && observer.lastError !== undefined ? observer.lastError : err,
    );
  }
}

function toArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
