/**
 * The render benchmark's load: `tasks` tasks, each with one agent streaming answers through the
 * agent SDK's `streamMessage` at `rate` tokens per second, message after message, until stopped.
 */
import type { Producer } from '@agentwire/agent';

export interface TokenLoad {
  /** The task ids, in start order. */
  readonly taskIds: readonly string[];
  /** Starts the agents streaming (the tasks and agents exist before, so pages can open quietly). */
  start(): void;
  /** Tokens the agents have handed to the SDK so far. */
  tokens(): number;
  /** Ends the open messages, completes the tasks and resolves once all of it is stored. */
  stop(): Promise<void>;
}

export interface TokenLoadOptions {
  tasks: number;
  /** Tokens per second per task. */
  rate: number;
  /** Tokens per message before the agent starts the next one. */
  tokensPerMessage?: number;
  /** Prefix of the task ids, so runs in one gateway do not collide. */
  prefix?: string;
}

const WORDS =
  'the gateway appends each token to the log and fans it out to every watcher in order so a late joiner sees the answer so far and then the rest as it is written'.split(
    ' ',
  );

export async function startTokenLoad(producer: Producer, options: TokenLoadOptions): Promise<TokenLoad> {
  const perMessage = options.tokensPerMessage ?? 150;
  const interval = 1000 / options.rate;
  const prefix = options.prefix ?? 'render';
  let stopped = false;
  let tokens = 0;

  // The token source keeps its own schedule: when the event loop falls behind it catches up with
  // the tokens it owes rather than slowing down, as a model's stream would.
  async function* answer(offset: number): AsyncGenerator<string> {
    let due = performance.now();
    for (let i = 0; i < perMessage && !stopped; i++) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      due += interval;
      tokens++;
      yield `${WORDS[(offset + i) % WORDS.length]} `;
    }
  }

  const tasks = await Promise.all(
    Array.from({ length: options.tasks }, (_, i) =>
      producer.startTask({ taskId: `${prefix}-${i}`, title: `Streaming answer ${i + 1}` }),
    ),
  );
  const agents = await Promise.all(
    tasks.map((task, i) => task.spawnAgent({ name: `writer-${i + 1}`, role: 'writer' })),
  );
  let go = () => {};
  const started = new Promise<void>((resolve) => (go = resolve));
  const runs = tasks.map(async (task, i) => {
    const agent = agents[i]!;
    await started;
    for (let n = 0; !stopped; n++) await agent.streamMessage(answer(i * 7 + n));
    await agent.complete();
    await task.complete(undefined, { summary: 'done streaming' });
  });
  return {
    taskIds: tasks.map((t) => t.id),
    start: go,
    tokens: () => tokens,
    async stop() {
      stopped = true;
      go();
      await Promise.all(runs);
    },
  };
}
