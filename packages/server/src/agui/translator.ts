import {
  isTerminal,
  openQuestions,
  reduceTask,
  type AgUiEvent,
  type AgUiInterrupt,
  type AgUiMessage,
  type AnyEnvelope,
  type Since,
  type TaskState,
} from '@agentwire/protocol';
import { toInterrupt } from './interrupts.js';
import { diff } from './json-patch.js';
import {
  agUiRole,
  resultMessageId,
  toolCallArguments,
  toolErrorContent,
  toolResultContent,
} from './messages.js';
import { agUiState, type AgUiTaskState } from './state.js';

/** Distributes Omit over the union, so each event keeps its own fields. */
type Draft = AgUiEvent extends infer E
  ? E extends AgUiEvent
    ? Omit<E, 'timestamp' | 'metadata'>
    : never
  : never;

export interface TranslatorOptions {
  threadId: string;
  runId: string;
  stream: string;
  /**
   * End the run with an interrupt when a question opens (AG-UI's human in the loop). Off, questions
   * are only state and a `CUSTOM` event, and the run streams on: for watchers that never answer.
   */
  interrupts: boolean;
  /** Questions open when the run was set up (after the answers it carried were recorded). */
  openAtStart: ReadonlySet<string>;
  /** The task's head when the run was set up: questions asked after it are open by definition. */
  headAtStart: number;
}

/** The AG-UI events of one envelope, with the seq (and epoch) they came from. */
export interface Translated {
  seq: number;
  events: AgUiEvent[];
}

/**
 * One AG-UI run over one task: folds the task's events with the reducer and says each in AG-UI,
 * keeping what AG-UI's event rules need (the messages, steps and sub-agents open in this run) so
 * that every run it produces passes `@ag-ui/client`'s verifier. A run may start from the task's
 * first event, from a position the client holds (resume: what is in flight is reopened), or from
 * the task's state (a late joiner's prelude). See docs/agui.md for the mapping.
 */
export class AgUiTranslator {
  private state: TaskState | undefined;
  private shared: AgUiTaskState | undefined;
  private seq = 0;
  private epoch = '';
  /** Open text messages and the sub-agent each is attributed to. */
  private readonly messages = new Map<string, string | undefined>();
  private stage: string | undefined;
  /** Sub-agents running in this run, and the step each opened. */
  private readonly agents = new Map<string, string>();
  private readonly startedAgents = new Set<string>();
  /** Seqs of the questions asked in this run, to tell live questions from ones replayed. */
  private readonly askedAt = new Map<string, number>();
  private done = false;

  constructor(private readonly options: TranslatorOptions) {}

  /** True once the run has said `RUN_FINISHED` or `RUN_ERROR`: nothing more may follow. */
  get ended(): boolean {
    return this.done;
  }

  /** Where the run is: the seq of the last event it translated. */
  get position(): Required<Since> {
    return { seq: this.seq, epoch: this.epoch };
  }

  /** An error before or instead of a run (`no_worker`, `not_found`): the only event of its run. */
  static refusal(code: string, message: string): AgUiEvent {
    return { type: 'RUN_ERROR', code, message, timestamp: Date.now() };
  }

  /**
   * Opens the run at `at` (0 for the task's very beginning). With `prelude`, the client has nothing:
   * it gets the conversation and state first. Without, it holds everything up to `at` and only
   * what is in flight there is reopened, because AG-UI's rules are per run.
   */
  open(
    at: Required<Since>,
    state: TaskState | undefined,
    prelude: { messages: AgUiMessage[] } | undefined,
  ): Translated {
    this.seq = at.seq;
    this.epoch = at.epoch;
    this.state = state;
    // Everything said here is the run's opening, synthesized at `at`, not an event of that seq.
    const out = this.batch(Date.now(), { prelude: true });
    const mode = prelude ? 'snapshot' : at.seq > 0 ? 'resume' : 'start';
    const { threadId, runId, stream } = this.options;
    out.add({ type: 'RUN_STARTED', threadId, runId }, { stream, mode });
    if (prelude) out.add({ type: 'MESSAGES_SNAPSHOT', messages: prelude.messages });
    if (state) {
      this.shared = agUiState(state);
      if (prelude) out.add({ type: 'STATE_SNAPSHOT', snapshot: this.shared });
      if (isTerminal(state)) {
        this.terminal(state, out);
      } else {
        this.reopen(state, out);
        this.maybeInterrupt(out);
      }
    }
    return { seq: at.seq, events: out.events };
  }

  /** The AG-UI events for one committed event (none once the run has ended, or for a replay). */
  push(e: AnyEnvelope): Translated {
    if (this.done || (e.epoch === this.epoch && e.seq <= this.seq)) return { seq: e.seq, events: [] };
    const before = this.state;
    const after = reduceTask(before, e);
    this.state = after;
    this.seq = e.seq;
    this.epoch = e.epoch;
    const out = this.batch(e.time);
    this.map(e, before, after, out);
    const shared = agUiState(after);
    if (this.shared === undefined) {
      out.add({ type: 'STATE_SNAPSHOT', snapshot: shared });
    } else {
      const delta = diff(this.shared, shared);
      if (delta.length > 0) out.add({ type: 'STATE_DELTA', delta });
    }
    this.shared = shared;
    if (isTerminal(after)) this.terminal(after, out, e);
    else if (e.type === 'question:asked') {
      this.askedAt.set(e.data.questionId, e.seq);
      this.maybeInterrupt(out);
    }
    return { seq: e.seq, events: out.events };
  }

  private map(e: AnyEnvelope, before: TaskState | undefined, after: TaskState, out: Batch): void {
    switch (e.type) {
      case 'task:stage':
        if (e.data.stage === this.stage) return;
        if (this.stage !== undefined) out.add({ type: 'STEP_FINISHED', stepName: this.stage });
        this.stage = e.data.stage;
        out.add({ type: 'STEP_STARTED', stepName: this.stage });
        return;
      case 'agent:spawned':
        this.startAgent(e.data.agentId, after, out);
        return;
      case 'agent:complete':
        this.endAgent(e.data.agentId, out, {
          type: 'SUBAGENT_FINISHED',
          subagentRunId: e.data.agentId,
          outcome: { type: 'success' },
          ...(e.data.result !== undefined && { result: e.data.result }),
        });
        return;
      case 'agent:failed':
        this.endAgent(e.data.agentId, out, {
          type: 'SUBAGENT_ERROR',
          subagentRunId: e.data.agentId,
          message: e.data.error.message,
          ...(e.data.error.code !== undefined && { code: e.data.error.code }),
        });
        return;
      case 'task:cancelled':
        // The whole task's cancel ends the run (terminal); one agent's ends its sub-agent.
        if (e.data.agentId !== undefined) {
          this.endAgent(e.data.agentId, out, {
            type: 'SUBAGENT_ERROR',
            subagentRunId: e.data.agentId,
            message: cancelMessage('agent', e.data.by, e.data.reason),
            code: 'cancelled',
          });
        }
        return;
      case 'tool:executing': {
        const { callId, tool, agentId, args } = e.data;
        // A retry reuses its call id; AG-UI would append the arguments to the first attempt's.
        if (before?.tools[callId]) return;
        const by = attribution(agentId);
        out.add({ type: 'TOOL_CALL_START', toolCallId: callId, toolCallName: tool, ...by });
        out.add({ type: 'TOOL_CALL_ARGS', toolCallId: callId, delta: toolCallArguments(args), ...by });
        out.add({ type: 'TOOL_CALL_END', toolCallId: callId, ...by });
        return;
      }
      case 'tool:complete':
        if (before?.tools[e.data.callId]?.status === 'completed') return;
        out.add(toolResult(e.data.callId, toolResultContent(e.data.result), e.data.agentId));
        return;
      case 'tool:failed':
        // A retryable failure is not the call's result yet: the next attempt's is.
        if (e.data.retryable === true) return;
        out.add(toolResult(e.data.callId, toolErrorContent(e.data.error), e.data.agentId));
        return;
      case 'message:start': {
        const { messageId, role, agentId } = e.data;
        if (this.messages.has(messageId) || before?.messages[messageId]) return;
        this.messages.set(messageId, agentId);
        const name = agentId === undefined ? undefined : after.agents[agentId]?.name;
        out.add({
          type: 'TEXT_MESSAGE_START',
          messageId,
          role: agUiRole(role),
          ...(name !== undefined && { name }),
          ...attribution(agentId),
        });
        return;
      }
      case 'message:delta': {
        const { messageId, delta } = e.data;
        if (!this.messages.has(messageId) || delta === '') return;
        out.add({
          type: 'TEXT_MESSAGE_CONTENT',
          messageId,
          delta,
          ...attribution(this.messages.get(messageId)),
        });
        return;
      }
      case 'message:end':
        this.endMessage(e.data.messageId, out);
        return;
      case 'chat:message': {
        const { messageId, text, from } = e.data;
        if (before?.messages[messageId]) return;
        out.add({
          type: 'TEXT_MESSAGE_START',
          messageId,
          role: 'user',
          ...(from !== undefined && { name: from }),
        });
        if (text !== '') out.add({ type: 'TEXT_MESSAGE_CONTENT', messageId, delta: text });
        out.add({ type: 'TEXT_MESSAGE_END', messageId });
        return;
      }
      case 'question:asked':
        if (!this.options.interrupts) out.add({ type: 'CUSTOM', name: e.type, value: e.data });
        return;
      case 'custom:event':
        out.add({ type: 'CUSTOM', name: e.data.name, value: e.data.payload ?? null });
        return;
      case 'agent:handoff':
      case 'memory:recalled':
      case 'system:health':
      case 'system:performance':
      case 'system:alert':
        out.add({ type: 'CUSTOM', name: e.type, value: e.data });
        return;
      case 'task:start':
      case 'task:progress':
      case 'task:complete':
      case 'task:failed':
      case 'agent:progress':
      case 'log:entry':
      case 'question:answered':
        // The state patch says it all (and the terminal ones end the run after it).
        return;
      default: {
        // A type this build does not know: passed on as it is rather than dropped.
        const unknown = e as { type: string; data: unknown };
        out.add({ type: 'CUSTOM', name: unknown.type, value: unknown.data ?? null });
      }
    }
  }

  /** What is in flight at the run's start, opened again: running sub-agents, the stage, messages. */
  private reopen(state: TaskState, out: Batch): void {
    for (const id of state.agentOrder) {
      if (state.agents[id]?.status === 'running') this.startAgent(id, state, out);
    }
    if (state.stage !== undefined) {
      this.stage = state.stage;
      out.add({ type: 'STEP_STARTED', stepName: state.stage });
    }
    for (const id of state.messageOrder) {
      const m = state.messages[id];
      if (!m || m.done) continue;
      this.messages.set(id, m.agentId);
      const name = m.agentId === undefined ? undefined : state.agents[m.agentId]?.name;
      out.add({
        type: 'TEXT_MESSAGE_START',
        messageId: id,
        role: agUiRole(m.role),
        ...(name !== undefined && { name }),
        ...attribution(m.agentId),
      });
    }
  }

  private startAgent(agentId: string, state: TaskState, out: Batch): void {
    // AG-UI sub-agent ids are per invocation: one that ended in this run cannot start again.
    if (this.startedAgents.has(agentId)) return;
    const agent = state.agents[agentId];
    if (!agent) return;
    this.startedAgents.add(agentId);
    this.agents.set(agentId, agent.name);
    out.add({
      type: 'SUBAGENT_STARTED',
      subagentRunId: agentId,
      name: agent.name,
      ...(agent.role !== undefined && { description: agent.role }),
      // Only a parent this run has announced can be named (one that ended earlier cannot).
      ...(agent.parentId !== undefined &&
        this.startedAgents.has(agent.parentId) && { parentSubagentRunId: agent.parentId }),
    });
    out.add({ type: 'STEP_STARTED', stepName: agent.name, subagentRunId: agentId });
  }

  private endAgent(
    agentId: string,
    out: Batch,
    end: Extract<Draft, { type: 'SUBAGENT_FINISHED' | 'SUBAGENT_ERROR' }>,
  ): void {
    const step = this.agents.get(agentId);
    if (step === undefined) return;
    out.add({ type: 'STEP_FINISHED', stepName: step, subagentRunId: agentId });
    out.add(end);
    this.agents.delete(agentId);
  }

  private endMessage(messageId: string, out: Batch): void {
    if (!this.messages.has(messageId)) return;
    const by = attribution(this.messages.get(messageId));
    this.messages.delete(messageId);
    out.add({ type: 'TEXT_MESSAGE_END', messageId, ...by });
  }

  /**
   * Closes what is open (AG-UI allows `RUN_FINISHED` only then): messages, the stage, sub-agents,
   * which finish with `outcome` (success, or suspended while the run waits for an answer).
   */
  private closeAll(
    out: Batch,
    agentOutcome: (agentId: string) => Extract<Draft, { type: 'SUBAGENT_FINISHED' }>,
  ) {
    for (const id of [...this.messages.keys()]) this.endMessage(id, out);
    for (const id of [...this.agents.keys()].reverse()) this.endAgent(id, out, agentOutcome(id));
    if (this.stage !== undefined) out.add({ type: 'STEP_FINISHED', stepName: this.stage });
    this.stage = undefined;
  }

  /** The end of a task as the end of the run: success, or `RUN_ERROR` (failed, cancelled). */
  private terminal(state: TaskState, out: Batch, e?: AnyEnvelope): void {
    const { threadId, runId } = this.options;
    if (state.status === 'completed') {
      this.closeAll(out, (id) => ({
        type: 'SUBAGENT_FINISHED',
        subagentRunId: id,
        outcome: { type: 'success' },
      }));
      out.add({
        type: 'RUN_FINISHED',
        threadId,
        runId,
        outcome: { type: 'success' },
        ...(state.result !== undefined && { result: state.result }),
      });
    } else if (state.status === 'cancelled') {
      const data =
        e?.type === 'task:cancelled' ? e.data : { by: state.cancelledBy, reason: state.cancelReason };
      out.add({ type: 'RUN_ERROR', code: 'cancelled', message: cancelMessage('task', data.by, data.reason) });
    } else {
      // The producer's own code, else why the gateway failed it (orphaned, timeout).
      const reason =
        state.failureReason !== undefined && state.failureReason !== 'error' ? state.failureReason : 'failed';
      out.add({
        type: 'RUN_ERROR',
        message: state.error?.message ?? 'The task failed.',
        code: state.error?.code ?? reason,
      });
    }
    this.done = true;
  }

  /**
   * A question still waiting for an answer pauses the run: AG-UI's interrupt, which the client
   * answers by running again with a resume entry. Questions replayed from history that someone
   * has answered since are not asked again.
   */
  private maybeInterrupt(out: Batch): void {
    if (!this.options.interrupts || !this.state) return;
    const open = openQuestions(this.state).filter((q) => {
      const asked = this.askedAt.get(q.questionId);
      return (
        this.options.openAtStart.has(q.questionId) ||
        (asked !== undefined && asked > this.options.headAtStart)
      );
    });
    if (open.length === 0) return;
    const at = this.position;
    const interrupts: AgUiInterrupt[] = open.map((q) =>
      toInterrupt(q, at, q.agentId !== undefined && this.agents.has(q.agentId)),
    );
    this.closeAll(out, (id) => ({
      type: 'SUBAGENT_FINISHED',
      subagentRunId: id,
      outcome: {
        type: 'suspended',
        interruptIds: interrupts.filter((i) => i.subagentRunId === id).map((i) => i.id),
      },
    }));
    const { threadId, runId } = this.options;
    out.add({ type: 'RUN_FINISHED', threadId, runId, outcome: { type: 'interrupt', interrupts } });
    this.done = true;
  }

  private batch(time: number, extra: Record<string, unknown> = {}): Batch {
    return new Batch(time, { seq: this.seq, epoch: this.epoch, ...extra });
  }
}

/** The events of one envelope (or of a run's opening), all stamped with its position. */
class Batch {
  readonly events: AgUiEvent[] = [];

  constructor(
    private readonly time: number,
    private readonly position: Record<string, unknown>,
  ) {}

  add(event: Draft, extra?: Record<string, unknown>): void {
    this.events.push({
      ...event,
      timestamp: this.time,
      metadata: { agentwire: extra ? { ...this.position, ...extra } : this.position },
    } as AgUiEvent);
  }
}

function attribution(agentId: string | undefined): { subagentRunId?: string } {
  return agentId === undefined ? {} : { subagentRunId: agentId };
}

function toolResult(callId: string, content: string, agentId: string | undefined): Draft {
  return {
    type: 'TOOL_CALL_RESULT',
    messageId: resultMessageId(callId),
    toolCallId: callId,
    content,
    role: 'tool',
    ...attribution(agentId),
  };
}

function cancelMessage(what: string, by: string | undefined, reason: string | undefined): string {
  return `The ${what} was cancelled${by === undefined ? '' : ` by ${by}`}${reason === undefined ? '' : `: ${reason}`}.`;
}
