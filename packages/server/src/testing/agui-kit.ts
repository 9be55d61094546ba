import { connect, type Producer, type TaskHandle } from '@agentwire/agent';
import { taskStream, type AnyEnvelope } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';
import type { GatewayOptions } from '../gateway-options.js';
import { pace } from './wait.js';

/**
 * Test support for the AG-UI surface: a gateway with an in-process worker for kind `agent` that
 * streams messages, spawns sub-agents, calls a tool, can ask a question and honours cancel, with
 * gates the test opens to hold the agent at a known point.
 */

/** What a test asks the agent to do, passed as `forwardedProps.script` (so in the task's input). */
export interface Script {
  /** Hold mid-message at gate `mid-message`, and before finishing at gate `late`. */
  gates?: boolean;
  /** Ask "Publish the report?" (yes/no) before writing the report. */
  ask?: boolean;
  /** Stream a message that never ends by itself: only a cancel stops it. */
  endless?: boolean;
}

export interface AgentOutcome {
  status: 'completed' | 'aborted' | 'failed';
  error?: unknown;
}

/** Named points an agent waits at until the test opens them; both sides can wait on the other. */
export class Gates {
  private readonly opened = new Map<string, () => void>();
  private readonly openers = new Map<string, Promise<void>>();
  private readonly arrivals = new Map<string, { reached: Promise<void>; arrive: () => void }>();

  /** Called by the agent: marks `key` reached and waits until the test opens it (or `signal` aborts). */
  async reach(key: string, signal: AbortSignal): Promise<void> {
    this.arrival(key).arrive();
    const open = this.opener(key);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void open.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Resolves once an agent has reached `key`. */
  reached(key: string): Promise<void> {
    return this.arrival(key).reached;
  }

  open(key: string): void {
    this.opener(key);
    this.opened.get(key)!();
  }

  private opener(key: string): Promise<void> {
    let p = this.openers.get(key);
    if (!p) {
      p = new Promise<void>((resolve) => this.opened.set(key, resolve));
      this.openers.set(key, p);
    }
    return p;
  }

  private arrival(key: string) {
    let a = this.arrivals.get(key);
    if (!a) {
      let arrive!: () => void;
      const reached = new Promise<void>((resolve) => (arrive = resolve));
      a = { reached, arrive };
      this.arrivals.set(key, a);
    }
    return a;
  }
}

export interface AgUiKit {
  gateway: Gateway;
  producer: Producer;
  /** `http://…/v1/agui` */
  url: string;
  gates: Gates;
  /** How each task's handler ended, by task id. */
  outcome(taskId: string): Promise<AgentOutcome>;
  /** The task's history, as stored. */
  history(taskId: string): Promise<AnyEnvelope[]>;
  /** Resolves with the first event of `taskId` that `match` accepts (committed now or later). */
  committed(taskId: string, match: (e: AnyEnvelope) => boolean): Promise<AnyEnvelope>;
  close(): Promise<void>;
}

export async function startAgUiKit(options: GatewayOptions = {}): Promise<AgUiKit> {
  const gateway = await createGateway({ port: 0, logLevel: 'silent', ...options });
  const producer = connect({ publisher: gateway });
  const gates = new Gates();
  const outcomes = new Map<string, { promise: Promise<AgentOutcome>; settle: (o: AgentOutcome) => void }>();
  const outcomeOf = (taskId: string) => {
    let o = outcomes.get(taskId);
    if (!o) {
      let settle!: (o: AgentOutcome) => void;
      const promise = new Promise<AgentOutcome>((resolve) => (settle = resolve));
      o = { promise, settle };
      outcomes.set(taskId, o);
    }
    return o;
  };
  producer.handle(
    'agent',
    async (task: TaskHandle, input: { prompt?: string; forwardedProps?: { script?: Script } }) => {
      try {
        const result = await runAgent(task, input?.prompt ?? '', input?.forwardedProps?.script ?? {}, gates);
        outcomeOf(task.id).settle({ status: 'completed' });
        return result;
      } catch (error) {
        outcomeOf(task.id).settle({ status: task.signal.aborted ? 'aborted' : 'failed', error });
        throw error;
      }
    },
  );
  const history = async (taskId: string) => (await gateway.engine.read(taskStream(taskId), 0, 10_000)).events;
  return {
    gateway,
    producer,
    url: `${gateway.url}/v1/agui`,
    gates,
    outcome: (taskId) => outcomeOf(taskId).promise,
    history,
    committed: (taskId, match) =>
      new Promise((resolve) => {
        const stream = taskStream(taskId);
        const off = gateway.engine.onAppend((s, events) => {
          const hit = s === stream ? events.find(match) : undefined;
          if (!hit) return;
          off();
          resolve(hit);
        });
        void history(taskId).then((events) => {
          const hit = events.find(match);
          if (!hit) return;
          off();
          resolve(hit);
        });
      }),
    close: async () => {
      await producer.close();
      await gateway.close();
    },
  };
}

async function runAgent(task: TaskHandle, prompt: string, script: Script, gates: Gates): Promise<unknown> {
  const gate = (name: string) => gates.reach(`${task.id}:${name}`, task.signal);
  await task.stage('research');
  const planner = await task.spawnAgent({ name: 'planner', role: 'plans the work' });
  const researcher = await task.spawnAgent({ name: 'researcher', role: 'finds sources', parent: planner });
  await researcher.log('info', `researching ${prompt}`);
  await researcher.streamMessage(['Looking ', 'into ', prompt || 'it', '.']);
  const hits = await researcher.tool('search', { q: prompt }, () => ['doc-1', 'doc-2']);
  await task.progress({ percent: 50, message: 'sources found' });
  const found = await researcher.startMessage();
  await found.delta('Found ');
  if (script.gates) await gate('mid-message');
  await found.delta(`${hits.length} sources`);
  await found.end();
  await researcher.complete({ hits });
  let answer: unknown;
  if (script.ask) {
    const reply = await task.ask<string>('Publish the report?', {
      agent: planner,
      options: [{ value: 'yes' }, { value: 'no', label: 'Not yet' }],
    });
    answer = reply.answer;
  }
  await task.stage('writing');
  if (script.endless) {
    await planner.streamMessage(endlessTokens());
  }
  if (script.gates) await gate('late');
  await planner.streamMessage([
    'Report ',
    'ready',
    answer === undefined ? '.' : ` (answer: ${String(answer)}).`,
  ]);
  await planner.complete();
  return { hits: hits.length, ...(answer !== undefined && { answer }) };
}

/** A model that never stops talking: a token every few milliseconds, until its stream is cancelled. */
async function* endlessTokens(): AsyncGenerator<string> {
  for (let i = 0; ; i++) {
    await pace(5);
    yield `t${i} `;
  }
}
