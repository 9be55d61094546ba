import type { Producer } from '@agentwire/agent';
import { Deck } from './deck.js';
import { abortableDelay, Pace } from './pace.js';
import { between } from './random.js';
import { runTask, type TaskPlan } from './run-task.js';
import { topics } from './topics.js';

export interface DemoOptions {
  /** Tasks kept running at once. Default 3. */
  concurrency?: number;
  /** Time multiplier: 10 runs everything ten times faster. Default 1 (human pace). */
  speed?: number;
  /** Aborting it stops the workload, like stop(). */
  signal?: AbortSignal;
  logger?: (message: string) => void;
}

export interface DemoWorkload {
  /** Cancels the tasks in flight (each gets `task:cancelled`) and resolves once all have ended. */
  stop(): Promise<void>;
}

// After a task could not be published at all, wait this long (real time) before the next one, so
// an unreachable gateway is not hammered with tasks that cannot start.
const LOST_PAUSE_MS = 3_000;

/**
 * A continuously running multi-agent swarm, built only on the public producer SDK: keeps
 * `concurrency` tasks in flight, each a planner delegating to researchers and a synthesizer.
 */
export function startDemoWorkload(aw: Producer, options: DemoOptions = {}): DemoWorkload {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 3));
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`speed must be a positive number, got ${speed}`);
  const log = options.logger ?? (() => undefined);
  const stopper = new AbortController();
  const pace = new Pace(speed, stopper.signal);
  const halt = () => stopper.abort(new DOMException('The demo was stopped.', 'AbortError'));
  if (options.signal?.aborted) halt();
  options.signal?.addEventListener('abort', halt, { once: true });

  // Every fourth task asks the watchers a question and every sixth fails, starting early, so a
  // short look at the demo shows every kind of event.
  let count = 0;
  const deck = new Deck(topics);
  const nextPlan = (): TaskPlan => {
    const n = count++;
    return { topic: deck.draw(), askQuestion: n % 4 === 1, fail: n % 6 === 2 };
  };

  const worker = async (slot: number): Promise<void> => {
    try {
      await pace.sleep(slot * 700);
      while (!stopper.signal.aborted) {
        const outcome = await runTask(aw, nextPlan(), { pace, log });
        if (outcome === 'lost') await abortableDelay(LOST_PAUSE_MS, stopper.signal);
        else await pace.sleep(between(400, 1_500));
      }
    } catch (err) {
      if (!stopper.signal.aborted) log(`! demo worker ${slot} stopped: ${String(err)}`);
    }
  };

  log(`demo: ${concurrency} concurrent tasks at ${speed}x speed`);
  const workers = Array.from({ length: concurrency }, (_, slot) => worker(slot));
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        halt();
        options.signal?.removeEventListener('abort', halt);
        await Promise.allSettled(workers);
        log('demo: stopped');
      })();
      return stopped;
    },
  };
}
