import type { AgentHandle, TaskHandle, ToolCall } from '@agentwire/agent';
import type { RunItem, RunStreamEvent } from '@openai/agents';
import type { AnyAgent } from './sdk-types.js';
import { modelName } from './model-name.js';
import { TextQueue } from './text-queue.js';

/** Token counts summed over every model response of a run. */
export interface RunUsage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

interface OpenMessage {
  queue: TextQueue;
  done: Promise<unknown>;
}

/**
 * Turns one run's stream events into the task's events: each SDK agent becomes an agentwire agent
 * when it first runs, handoffs link them, tool calls open and close by the SDK's call id, and the
 * model's text deltas stream as messages. Nothing is published once `signal` aborts, so a cancelled
 * task gets no event after `task:cancelled`.
 */
export class RunRecorder {
  private readonly agents = new Map<AnyAgent, Promise<AgentHandle>>();
  private readonly ended = new Set<AnyAgent>();
  private readonly tools = new Map<string, Promise<ToolCall>>();
  private readonly settledCalls = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private current: AnyAgent | undefined;
  private message: OpenMessage | undefined;
  /** Deltas seen since the last message item, to tell a streamed message from one that arrived whole. */
  private streamedText = false;
  readonly usage: RunUsage = { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 };

  constructor(
    private readonly task: TaskHandle,
    private readonly signal: AbortSignal,
    private readonly runModel: unknown,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The agentwire agent of an SDK agent, spawned on first use (under `parent` after a handoff). */
  agentFor(agent: AnyAgent, parent?: AnyAgent): Promise<AgentHandle> {
    let handle = this.agents.get(agent);
    if (!handle || this.ended.has(agent)) {
      this.ended.delete(agent);
      const parentHandle = parent ? this.agents.get(parent) : undefined;
      handle = (async () => {
        const parentAgent = parentHandle ? await parentHandle : undefined;
        const model = modelName(agent, this.runModel);
        return this.task.spawnAgent({
          name: agent.name.slice(0, 200) || 'agent',
          ...(model !== undefined && { model }),
          ...(agent.handoffDescription && { role: agent.handoffDescription.slice(0, 200) }),
          ...(parentAgent && { parent: parentAgent }),
        });
      })();
      this.track(handle);
      this.agents.set(agent, handle);
    }
    return handle;
  }

  /** The agent a run starts (or resumes) with; it shows up as soon as the run begins. */
  begin(agent: AnyAgent): void {
    if (this.signal.aborted) return;
    this.current = agent;
    void this.track(this.agentFor(agent));
  }

  record(event: RunStreamEvent): void {
    if (this.signal.aborted) return;
    switch (event.type) {
      case 'agent_updated_stream_event': {
        // After the first, the run changes agents only by a handoff: the agent before hands off.
        const previous = this.current;
        this.endMessage();
        this.current = event.agent;
        void this.track(this.agentFor(event.agent, previous));
        return;
      }
      case 'raw_model_stream_event':
        return this.raw(event.data);
      case 'run_item_stream_event':
        return this.item(event.name, event.item);
    }
  }

  private raw(data: { type: string; [k: string]: unknown }): void {
    if (data.type === 'output_text_delta' && typeof data.delta === 'string' && data.delta !== '') {
      this.openMessage().queue.push(data.delta);
      this.streamedText = true;
    } else if (data.type === 'response_done') {
      this.endMessage();
      const usage = (data.response as { usage?: Partial<RunUsage> } | undefined)?.usage;
      this.usage.requests += usage?.requests ?? 1;
      this.usage.inputTokens += usage?.inputTokens ?? 0;
      this.usage.outputTokens += usage?.outputTokens ?? 0;
      this.usage.totalTokens += usage?.totalTokens ?? 0;
    }
  }

  private item(name: string, item: RunItem): void {
    switch (item.type) {
      case 'handoff_output_item':
        return this.handoff(item.sourceAgent, item.targetAgent);
      case 'message_output_item':
        // A model that does not stream text still produces the message whole.
        if (!this.streamedText) {
          const text = textOf(item.rawItem);
          if (text !== '') this.wholeMessage(item.agent, text);
        }
        this.streamedText = false;
        return;
      case 'tool_call_item':
        if (name === 'tool_called') this.toolCalled(item.agent, item.rawItem);
        return;
      case 'tool_call_output_item':
        return this.toolOutput(item.rawItem, item.output);
      case 'reasoning_item': {
        const text = textOf(item.rawItem);
        if (text === '') return;
        void this.track(
          this.agentFor(item.agent).then((a) => this.task.custom('reasoning', { agentId: a.id, text })),
        );
        return;
      }
    }
  }

  private toolCalled(agent: AnyAgent, raw: object): void {
    const call = raw as { callId?: unknown; name?: unknown; arguments?: unknown };
    const callId = call.callId;
    if (typeof callId !== 'string' || this.tools.has(callId)) return;
    const tool = typeof call.name === 'string' && call.name !== '' ? call.name.slice(0, 200) : 'tool';
    const args = parseArguments(call.arguments);
    const opened = this.agentFor(agent).then((a) => a.startTool(tool, args, { callId }));
    this.tools.set(callId, opened);
    void this.track(opened);
  }

  private toolOutput(raw: object, output: unknown): void {
    const callId = (raw as { callId?: unknown }).callId;
    if (typeof callId !== 'string' || this.settledCalls.has(callId)) return;
    const call = this.tools.get(callId);
    if (!call) return;
    this.settledCalls.add(callId);
    void this.track(call.then((c) => c.complete(output)));
  }

  /** A tool call a watcher refused: it ends failed, so nobody mistakes the refusal for a result. */
  rejectTool(callId: string, reason: string): void {
    if (this.signal.aborted || this.settledCalls.has(callId)) return;
    const call = this.tools.get(callId);
    if (!call) return;
    this.settledCalls.add(callId);
    const error = Object.assign(new Error(reason), { code: 'tool_rejected' });
    void this.track(call.then((c) => c.fail(error)));
  }

  private handoff(from: AnyAgent | undefined, to: AnyAgent | undefined): void {
    if (!from || !to) return;
    this.endMessage();
    const source = this.agentFor(from);
    const target = this.agentFor(to, from);
    this.ended.add(from);
    void this.track(
      Promise.all([source, target]).then(async ([s, t]) => {
        await s.handoff(t, `handoff to ${to.name}`);
        await s.complete(undefined, { summary: `Handed off to ${to.name}` });
      }),
    );
    this.current = to;
  }

  private openMessage(): OpenMessage {
    if (this.message) return this.message;
    const queue = new TextQueue();
    const agent = this.current;
    const done = agent
      ? this.agentFor(agent).then((a) => a.streamMessage(queue, { role: 'assistant' }))
      : this.task.spawnAgent({ name: 'agent' }).then((a) => a.streamMessage(queue));
    this.message = { queue, done };
    void this.track(done);
    return this.message;
  }

  private endMessage(): void {
    this.message?.queue.close();
    this.message = undefined;
  }

  private wholeMessage(agent: AnyAgent, text: string): void {
    void this.track(this.agentFor(agent).then((a) => a.streamMessage([text], { role: 'assistant' })));
  }

  /** Ends the run's agents: the last one completes with the final output, unless the run failed. */
  async finish(outcome: { output?: unknown; error?: unknown }): Promise<void> {
    this.endMessage();
    await this.drain();
    if (this.signal.aborted) return;
    const open = [...this.agents.entries()].filter(([agent]) => !this.ended.has(agent));
    for (const [agent, handle] of open) {
      this.ended.add(agent);
      const a = await handle;
      if (outcome.error !== undefined) await a.fail(outcome.error);
      else await a.complete(agent === this.current ? outcome.output : undefined);
    }
  }

  /** Waits for everything published so far; the first failure goes to `onError`. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    promise.then(
      () => this.pending.delete(promise),
      (err: unknown) => {
        this.pending.delete(promise);
        // A publish cut short by a cancel is expected; anything else is the caller's to see.
        if (!this.signal.aborted) this.onError(err);
      },
    );
    return promise;
  }
}

function parseArguments(args: unknown): unknown {
  if (typeof args !== 'string') return args;
  try {
    return JSON.parse(args) as unknown;
  } catch {
    return args;
  }
}

/** The text of an output message or reasoning item: its text parts, joined (summary before raw). */
function textOf(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return '';
  const { content, rawContent } = raw as { content?: unknown; rawContent?: unknown };
  return joinText(content) || joinText(rawContent);
}

function joinText(parts: unknown): string {
  if (!Array.isArray(parts)) return '';
  return parts
    .map((p: unknown) => {
      const text = typeof p === 'object' && p !== null ? (p as { text?: unknown }).text : undefined;
      return typeof text === 'string' ? text : '';
    })
    .join('');
}
