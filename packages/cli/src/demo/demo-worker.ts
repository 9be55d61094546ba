import type { Producer, TaskHandler } from '@agentwire/agent';
import { Pace } from './pace.js';
import { promptOf, promptTopic } from './prompt-topic.js';
import { runStartedTask, type Outcome } from './run-task.js';

/**
 * The task kinds the demo worker starts: `agent` (seed 000's `start_agent_task` and the dashboard's
 * default), `request` (seed 002's `start`), and the kinds of the demo's own topics.
 */
export const DEMO_KINDS = ['agent', 'request', 'research', 'analysis', 'engineering'] as const;

/** Started tasks the demo runs at once; beyond it a start gets `no_worker` (at capacity). */
export const DEFAULT_DEMO_CAPACITY = 20;

export interface DemoWorkerOptions {
  /** Tasks run at once. Default DEFAULT_DEMO_CAPACITY. */
  capacity?: number;
  /** Time multiplier, as for the workload. Default 1. */
  speed?: number;
  logger?: (message: string) => void;
}

export interface DemoWorker {
  readonly kinds: readonly string[];
  /** Takes no more starts, cancels the started tasks still running and resolves once all ended. */
  stop(): Promise<void>;
}

/**
 * Makes the demo a worker: a start of one of DEMO_KINDS (from a seed client, `POST /v1/tasks`, the
 * native `start` command or the dashboard) runs the demo's swarm on the request it carries.
 */
export function startDemoWorker(aw: Producer, options: DemoWorkerOptions = {}): DemoWorker {
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`speed must be a positive number, got ${speed}`);
  const log = options.logger ?? (() => undefined);
  const stopper = new AbortController();
  const pace = new Pace(speed, stopper.signal);
  const running = new Set<Promise<Outcome>>();

  // Started tasks neither ask nor fail on purpose: whoever asked for one gets an answer.
  const handler: TaskHandler<unknown, undefined> = async (task, input, start) => {
    const topic = promptTopic(promptOf(input, start), start.kind, start.projectId);
    const run = runStartedTask(task, { topic, askQuestion: false, fail: false }, { pace, log });
    running.add(run);
    try {
      await run;
    } finally {
      running.delete(run);
    }
    return undefined;
  };
  const worker = aw.worker({ capacity: options.capacity ?? DEFAULT_DEMO_CAPACITY });
  for (const kind of DEMO_KINDS) worker.handle(kind, handler);
  log(`demo: a worker for ${DEMO_KINDS.join(', ')}`);

  let stopped: Promise<void> | undefined;
  return {
    kinds: DEMO_KINDS,
    stop() {
      stopped ??= (async () => {
        for (const kind of DEMO_KINDS) worker.unhandle(kind);
        stopper.abort(new DOMException('The demo was stopped.', 'AbortError'));
        await Promise.allSettled([...running]);
      })();
      return stopped;
    },
  };
}
