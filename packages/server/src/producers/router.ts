import { createHash, randomUUID } from 'node:crypto';
import {
  AgentwireError,
  assertAnswer,
  isStreamName,
  isTerminal,
  taskIdOf,
  taskStream,
  type AnyEnvelope,
  type Command,
  type TaskState,
} from '@agentwire/protocol';
import type { CommandRouter, CommandSender } from '../commands.js';
import type { LogEngine } from '../log/engine.js';
import type { Logger } from '../logger.js';
import type { SnapshotService } from '../snapshots.js';
import type { ProducerDirectory } from './directory.js';
import type { GatewayPublish } from './registry.js';
import { QuestionBook } from './questions.js';
import { senderName } from './sender.js';

type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>;

export interface ProducerRouterDeps {
  /** The local registry, or the cluster's view of every node's producers. */
  registry: ProducerDirectory;
  engine: LogEngine;
  snapshots: SnapshotService;
  publish: GatewayPublish;
  logger: Logger;
}

/** What a watcher gets back for a command whose effect is an event: where that event landed. */
export interface EffectResult {
  stream: string;
  seq: number;
}

/**
 * The gateway's `CommandRouter` once producers can attach: checks each command against the task's
 * state (snapshot) before bothering any producer, routes it to the producer that owns the task (or
 * a worker, for `start`), waits for its acknowledgement, and records the effect as an event every
 * watcher sees: `task:cancelled` once the producer confirmed it stopped, `question:answered` and
 * `chat:message` before the producer hears of them (so its reaction follows them in the stream).
 */
export class ProducerRouter implements CommandRouter {
  private readonly questions: QuestionBook;
  /** Cancels in flight per task (and agent): a second cancel joins the first instead of repeating it. */
  private readonly cancelling = new Map<string, Promise<unknown>>();
  private readonly unlisten: () => void;

  constructor(private readonly deps: ProducerRouterDeps) {
    this.questions = new QuestionBook((stream, questionId) => this.timeOut(stream, questionId));
    // Timeouts re-check the snapshot before they fire; the events matter for the questions watched.
    this.unlisten = deps.engine.onAppend((stream, events) => this.onAppend(stream, events), {
      wants: (stream) => this.questions.watches(stream),
      skipped: () => {},
    });
  }

  async dispatch(command: Command, sender: CommandSender): Promise<unknown> {
    switch (command.type) {
      case 'cancel':
        return this.cancel(command, senderName(sender));
      case 'answer':
        return this.answer(command, senderName(sender));
      case 'message':
        return this.message(command, senderName(sender));
      case 'start':
        return this.start(command, senderName(sender));
    }
  }

  close(): void {
    this.unlisten();
    this.questions.dispose();
  }

  // ---- cancel -----------------------------------------------------------------------------------

  private cancel(command: CommandOf<'cancel'>, by: string | undefined): Promise<unknown> {
    const key = `${command.stream}\u0000${command.agentId ?? ''}`;
    const running = this.cancelling.get(key);
    if (running) return running;
    const attempt = this.runCancel(command, by).finally(() => this.cancelling.delete(key));
    this.cancelling.set(key, attempt);
    return attempt;
  }

  private async runCancel(
    command: CommandOf<'cancel'>,
    by: string | undefined,
  ): Promise<EffectResult | Record<string, unknown>> {
    const { stream, agentId, reason } = command;
    const state = await this.taskState(stream);
    // Cancelling what already ended is harmless: nothing to stop, nothing to record.
    if (isTerminal(state)) return { stream, status: state.status, seq: state.seq };
    if (agentId !== undefined) {
      const agent = state.agents[agentId];
      if (!agent)
        throw new AgentwireError('not_found', `Task ${stream} has no agent ${JSON.stringify(agentId)}.`);
      if (agent.status !== 'running') return { stream, agentId, status: agent.status, seq: state.seq };
    }
    const owner = await this.ownerOf(stream, state);
    return this.deps.registry.deliver<EffectResult>(
      owner,
      {
        type: 'cancel',
        stream,
        ...(agentId !== undefined && { agentId }),
        ...(reason !== undefined && { reason }),
        ...(by !== undefined && { by }),
      },
      // Recorded only once the producer confirmed its signal fired, so "cancelled" is never a lie.
      { onAck: () => this.record(stream, 'task:cancelled', { by, reason, agentId }) },
    );
  }

  // ---- answer -----------------------------------------------------------------------------------

  private async answer(command: CommandOf<'answer'>, by: string | undefined): Promise<unknown> {
    const { stream, questionId, answer } = command;
    const state = await this.taskState(stream);
    const question = state.questions[questionId];
    if (!question)
      throw new AgentwireError('not_found', `Task ${stream} has no question ${JSON.stringify(questionId)}.`);
    const closed = (why: string) =>
      new AgentwireError('question_closed', `The question ${JSON.stringify(questionId)} is ${why}.`, {
        questionId,
        status: question.status,
        ...(question.by !== undefined && { by: question.by }),
      });
    if (question.status !== 'open' || this.questions.isClosed(stream, questionId))
      throw closed('already answered or closed');
    if (isTerminal(state)) throw closed(`closed: the task has ${state.status}`);
    if (question.timeoutMs !== undefined && Date.now() >= question.askedAt + question.timeoutMs)
      throw closed('timed out');
    assertAnswer(question, answer);
    const owner = await this.ownerOf(stream, state);
    // Synchronous from the check above: of two answers racing, exactly one gets past here.
    if (!this.questions.close(stream, questionId)) throw closed('already answered');
    let recorded: EffectResult;
    try {
      recorded = await this.record(stream, 'question:answered', { questionId, answer, by });
    } catch (err) {
      this.questions.reopen(stream, questionId);
      throw err;
    }
    await this.deps.registry.deliver(owner, {
      type: 'answer',
      stream,
      questionId,
      answer,
      ...(by !== undefined && { by }),
    });
    return { ...recorded, questionId };
  }

  /** The gateway keeps each question's `timeoutMs`, so a timeout and an answer cannot both win. */
  private timeOut(stream: string, questionId: string): void {
    if (!this.questions.close(stream, questionId)) return;
    void (async () => {
      try {
        const state = await this.taskState(stream);
        if (isTerminal(state) || state.questions[questionId]?.status !== 'open') return;
        // Every gateway node runs this timer; one id for the event makes the log store it once.
        const id = `question-timeout:${createHash('sha256').update(questionId).digest('base64url')}`;
        await this.record(stream, 'question:answered', { questionId, answer: null, timedOut: true }, id);
        const owner = this.deps.registry.ownerOf(stream);
        if (owner)
          await this.deps.registry.deliver(owner, {
            type: 'answer',
            stream,
            questionId,
            answer: null,
            timedOut: true,
          });
      } catch (err) {
        // The producer's own timer (a little later) still ends its wait.
        this.deps.logger.debug({ err, stream, questionId }, 'question timeout not delivered');
      }
    })();
  }

  // ---- message ----------------------------------------------------------------------------------

  private async message(command: CommandOf<'message'>, from: string | undefined): Promise<unknown> {
    const { stream, text } = command;
    const state = await this.taskState(stream);
    if (isTerminal(state)) {
      throw new AgentwireError(
        'no_producer',
        `Task ${stream} has ${state.status}; nothing is running to read the message.`,
      );
    }
    const owner = await this.ownerOf(stream, state);
    const messageId = randomUUID();
    const recorded = await this.record(stream, 'chat:message', { messageId, text, from });
    await this.deps.registry.deliver(owner, {
      type: 'message',
      stream,
      messageId,
      text,
      ...(from !== undefined && { from }),
    });
    return { ...recorded, messageId };
  }

  // ---- start ------------------------------------------------------------------------------------

  private async start(command: CommandOf<'start'>, by: string | undefined): Promise<unknown> {
    const { kind, input, title, projectId } = command;
    const taskId = command.taskId ?? randomUUID();
    const stream = taskStream(taskId);
    if (!isStreamName(stream)) {
      throw new AgentwireError(
        'invalid_stream',
        `The task id ${JSON.stringify(taskId)} does not make a valid stream name.`,
      );
    }
    // Only a worker that may publish into the task's project hears of it, input included.
    const worker = this.deps.registry.pickWorker(kind, {
      stream,
      ...(projectId !== undefined && { projectId }),
    });
    const existing = await this.deps.snapshots.get(stream);
    if (existing.state)
      throw new AgentwireError('invalid_message', `Task ${stream} already exists.`, { path: '/taskId' });
    const registry = this.deps.registry;
    registry.assign(worker, stream);
    const result = await registry.deliver(
      worker,
      {
        type: 'start',
        stream,
        taskId,
        kind,
        ...(title !== undefined && { title }),
        ...(input !== undefined && { input }),
        ...(projectId !== undefined && { projectId }),
        ...(by !== undefined && { by }),
      },
      {
        // The worker acknowledges once its `task:start` is stored, and says at which seq.
        onAck: async (ack) => {
          const seq = typeof ack === 'object' && ack !== null ? (ack as { seq?: unknown }).seq : undefined;
          return { taskId, stream, worker: worker.id, ...(typeof seq === 'number' && { seq }) };
        },
        onFail: () => {
          if (registry.ownerOf(stream) === worker) registry.release(stream);
        },
      },
    );
    return result;
  }

  // ---- shared -----------------------------------------------------------------------------------

  private async taskState(stream: string): Promise<TaskState> {
    if (taskIdOf(stream) === undefined) {
      throw new AgentwireError(
        'invalid_stream',
        `Commands act on tasks; ${JSON.stringify(stream)} is not a task:<id> stream.`,
      );
    }
    const { state } = await this.deps.snapshots.get(stream);
    if (!state) throw new AgentwireError('not_found', `No task ${stream}.`);
    return state;
  }

  private async ownerOf(stream: string, state: TaskState) {
    const owner = await this.deps.registry.awaitOwner(stream);
    if (owner) return owner;
    const why =
      state.status === 'pending' || state.status === 'running'
        ? 'its producer has no command channel open (or is gone)'
        : `it has ${state.status}`;
    throw new AgentwireError('no_producer', `No producer owns ${stream}: ${why}.`, { stream });
  }

  private async record(
    stream: string,
    type: string,
    data: Record<string, unknown>,
    id?: string,
  ): Promise<EffectResult> {
    const clean = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
    const published = await this.deps.publish(stream, [
      { ...(id !== undefined && { id }), type, data: clean },
    ]);
    return { stream, seq: published.results[0]!.seq };
  }

  private onAppend(stream: string, events: AnyEnvelope[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'question:asked':
          if (e.data.timeoutMs !== undefined)
            this.questions.watch(stream, e.data.questionId, e.time + e.data.timeoutMs);
          break;
        case 'question:answered':
          this.questions.close(stream, e.data.questionId);
          break;
        case 'task:complete':
        case 'task:failed':
          this.questions.endStream(stream);
          break;
        case 'task:cancelled':
          if (e.data.agentId === undefined) this.questions.endStream(stream);
          break;
        default:
          break;
      }
    }
  }
}
