import {
  AgentwireError,
  isErrorCode,
  precompileProducerOps,
  PRODUCER_PROTOCOL_VERSION,
  type ErrorCode,
  type CommandDelivery,
  type DeliverOp,
  type GatewayOp,
  type ProducerHelloOp,
  type StartDelivery,
} from '@agentwire/protocol';
import type { ChannelStatus, CommandChannel } from './channel/command-channel.js';
import type { TaskHandle, TaskHooks } from './task.js';

type Outcome = { ok: true; result?: unknown } | { ok: false; code: string; message: string };

/** Starts tasks delivered by the gateway; the producer's worker implements it. */
export interface StartHandler {
  readonly kinds: readonly string[];
  readonly capacity: number | undefined;
  start(command: StartDelivery): Promise<{ seq: number }>;
}

export interface CommandSessionOptions {
  producerId: string;
  name?: string;
  onStatus?: (status: ChannelStatus, detail?: string) => void;
  onError?: (error: AgentwireError) => void;
}

// Outcomes remembered per command id, so a command resent after a reconnection is answered again
// without being carried out twice. Resends only concern the last few commands, so this is plenty.
const REMEMBERED_OUTCOMES = 1_000;
// Longest close() waits for commands still being carried out (a cancel waits up to 2 s for its events).
const CLOSE_WAIT_MS = 3_000;

/**
 * The producer's side of the command channel, independent of what carries it: announces the tasks
 * this producer owns and the kinds it works on, answers heartbeats, and turns each delivered
 * command into its effect on a task (abort its signal, resolve an `ask`, queue a chat message) or
 * a start for the worker, acknowledging every one exactly once per id.
 */
export class CommandSession implements TaskHooks {
  readonly reachable = true;
  private readonly tasks = new Map<string, TaskHandle>();
  private readonly outcomes = new Map<string, Promise<Outcome>>();
  /** Answers not yet sent; closing waits for them, so a cancel that ends the program is still acknowledged. */
  private readonly answering = new Set<Promise<unknown>>();
  private starter: StartHandler | undefined;
  /** What the last hello told the gateway; claims and kinds changed before its welcome follow it. */
  private announced: { streams: Set<string>; worker: string } | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private opened = false;
  private closed = false;

  constructor(
    private readonly channel: CommandChannel,
    private readonly options: CommandSessionOptions,
  ) {}

  get status(): ChannelStatus {
    return this.channel.status;
  }

  /** Takes ownership of a task: from now on, commands for it come here. */
  claim(task: TaskHandle): void {
    if (this.closed) return;
    this.tasks.set(task.stream, task);
    this.ensureOpen();
    this.channel.send({ op: 'claim', streams: [task.stream] });
    this.updateKeepAlive();
  }

  /** @internal TaskHooks: the task ended; the gateway saw its terminal event and released it. */
  ended(task: TaskHandle): void {
    if (this.tasks.get(task.stream) === task) this.tasks.delete(task.stream);
    this.updateKeepAlive();
  }

  reportError(error: unknown): void {
    const typed =
      error instanceof AgentwireError
        ? error
        : new AgentwireError(
            'internal',
            `A chat handler threw: ${error instanceof Error ? error.message : String(error)}`,
          );
    try {
      this.options.onError?.(typed);
    } catch {
      // A throwing listener must not break command handling.
    }
  }

  /** Announces (or updates) the kinds this producer starts tasks for. */
  setStarter(starter: StartHandler): void {
    this.starter = starter;
    this.ensureOpen();
    this.channel.send(this.workerOp(starter));
    this.updateKeepAlive();
  }

  private workerOp(starter: StartHandler) {
    return {
      op: 'worker' as const,
      kinds: [...starter.kinds],
      ...(starter.capacity !== undefined && { capacity: starter.capacity }),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // An agent that stops because of a cancel often closes its producer right away; the cancel's
    // acknowledgement must still go out before the bye.
    if (this.answering.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_WAIT_MS);
        timer.unref();
        void Promise.allSettled([...this.answering]).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    clearInterval(this.heartbeat);
    if (this.opened) await this.channel.close();
  }

  private ensureOpen(): void {
    if (this.opened || this.closed) return;
    this.opened = true;
    // Now rather than on the first command, so the first cancel is not slowed by compiling validators.
    precompileProducerOps();
    this.channel.open({
      hello: () => this.hello(),
      receive: (op) => this.receive(op),
      status: (status, detail) => {
        if (status !== 'connected') clearInterval(this.heartbeat);
        this.options.onStatus?.(status, detail);
      },
    });
  }

  private hello(): ProducerHelloOp {
    const hello: ProducerHelloOp = {
      op: 'hello',
      version: PRODUCER_PROTOCOL_VERSION,
      producerId: this.options.producerId,
      streams: [...this.tasks.keys()],
    };
    if (this.options.name !== undefined) hello.name = this.options.name;
    if (this.starter) {
      hello.kinds = [...this.starter.kinds];
      if (this.starter.capacity !== undefined) hello.capacity = this.starter.capacity;
    }
    this.announced = {
      streams: new Set(hello.streams),
      worker: this.starter ? JSON.stringify(this.workerOp(this.starter)) : '',
    };
    return hello;
  }

  /**
   * Ops sent between the hello and the gateway's welcome are dropped (the channel is not connected
   * yet), and a channel may build its hello synchronously: a worker registering several kinds in a
   * row, or tasks started together, would otherwise be announced only in part until a reconnection.
   */
  private catchUp(): void {
    const said = this.announced;
    if (!said) return;
    const missed = [...this.tasks.keys()].filter((s) => !said.streams.has(s));
    if (missed.length > 0) this.channel.send({ op: 'claim', streams: missed });
    if (this.starter && JSON.stringify(this.workerOp(this.starter)) !== said.worker)
      this.channel.send(this.workerOp(this.starter));
  }

  private receive(op: GatewayOp): void {
    switch (op.op) {
      case 'welcome':
        this.catchUp();
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => this.channel.send({ op: 'ping' }), op.heartbeatMs);
        this.heartbeat.unref();
        return;
      case 'command':
        this.handle(op);
        return;
      case 'pong':
        return;
      case 'error':
        this.reportError(
          new AgentwireError(isKnown(op.code), `The gateway refused an op: ${op.message}`, op.details),
        );
        return;
    }
  }

  private handle(op: DeliverOp): void {
    let outcome = this.outcomes.get(op.id);
    if (!outcome) {
      outcome = this.execute(op.command);
      this.outcomes.set(op.id, outcome);
      if (this.outcomes.size > REMEMBERED_OUTCOMES) {
        const oldest = this.outcomes.keys().next().value;
        if (oldest !== undefined) this.outcomes.delete(oldest);
      }
    }
    // Sent on whatever connection is up when the outcome is known; if none is, the gateway resends
    // the command after the reconnection and this answers it from `outcomes`.
    const answered = outcome.then((o) =>
      this.channel.send(
        o.ok
          ? { op: 'ack', id: op.id, ...(o.result !== undefined && { result: o.result }) }
          : { op: 'reject', id: op.id, code: o.code, message: o.message.slice(0, 2_000) },
      ),
    );
    this.answering.add(answered);
    void answered.finally(() => this.answering.delete(answered));
  }

  private async execute(command: CommandDelivery): Promise<Outcome> {
    try {
      if (command.type === 'start') {
        if (!this.starter) throw new AgentwireError('no_worker', 'This producer is not a worker.');
        return { ok: true, result: await this.starter.start(command) };
      }
      const task = this.tasks.get(command.stream);
      switch (command.type) {
        case 'cancel':
          if (!task) return notHere(command.stream);
          await task.cancelledRemotely(command);
          return { ok: true };
        case 'answer':
          if (!task) return notHere(command.stream);
          if (!task.answered(command.questionId, command.answer, command.by, command.timedOut === true)) {
            return {
              ok: false,
              code: 'question_closed',
              message: `No ask() is waiting for question ${command.questionId}.`,
            };
          }
          return { ok: true };
        case 'message':
          if (!task) return notHere(command.stream);
          task.received({
            messageId: command.messageId,
            text: command.text,
            ...(command.from !== undefined && { from: command.from }),
          });
          return { ok: true };
      }
    } catch (err) {
      if (err instanceof AgentwireError) return { ok: false, code: err.code, message: err.message };
      return { ok: false, code: 'command_failed', message: err instanceof Error ? err.message : String(err) };
    }
  }

  private updateKeepAlive(): void {
    const busy = this.tasks.size > 0 || (this.starter?.kinds.length ?? 0) > 0;
    this.channel.keepAlive?.(busy);
  }
}

function notHere(stream: string): Outcome {
  return { ok: false, code: 'no_producer', message: `This producer no longer runs ${stream}.` };
}

function isKnown(code: string): ErrorCode {
  return isErrorCode(code) ? code : 'internal';
}
