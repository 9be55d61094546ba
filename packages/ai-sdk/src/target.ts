import type {
  AgentHandle,
  Producer,
  SpawnAgentOptions,
  StartTaskOptions,
  TaskHandle,
} from '@agentwire/agent';

/** Where runs go: a producer starts a task per run, a task gets an agent per run. */
export type Target = Producer | TaskHandle;

export interface WireOptions {
  /** With a producer: what each run's task starts with. The title defaults to the prompt. */
  task?: Partial<StartTaskOptions>;
  /**
   * The agent a run spawns (name, role, parent …), or, with a task as the target, one of its agents
   * to run as: then the run neither spawns nor ends an agent.
   */
  agent?: Partial<SpawnAgentOptions> | AgentHandle;
  /**
   * Milliseconds a tool approval waits for a watcher's answer before the call is denied. Default: it
   * waits until answered or cancelled.
   */
  approvalTimeout?: number;
}

/** What the run itself tells about its task and agent, when the options leave them open. */
export interface RunDescription {
  title: string;
  agentName: string;
  model?: string;
}

export interface Opened {
  task: TaskHandle;
  agent: AgentHandle;
  /** The run started the task, so it ends it too. */
  ownsTask: boolean;
  /** The run spawned the agent, so it ends it too. */
  ownsAgent: boolean;
}

export function isProducer(target: Target): target is Producer {
  return typeof (target as Partial<Producer>).startTask === 'function';
}

export function isAgentHandle(value: WireOptions['agent']): value is AgentHandle {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<AgentHandle>).taskId === 'string' &&
    typeof (value as Partial<AgentHandle>).tool === 'function'
  );
}

/** Checks the target and options before anything is published; throws a TypeError on misuse. */
export function checkTarget(target: Target, options: WireOptions): void {
  const producer = typeof target === 'object' && target !== null && isProducer(target);
  const task =
    typeof target === 'object' &&
    target !== null &&
    typeof (target as Partial<TaskHandle>).spawnAgent === 'function';
  if (!producer && !task) {
    throw new TypeError(
      'wire() takes a producer (from connect()) or a task handle (from startTask() or a worker).',
    );
  }
  if (isAgentHandle(options.agent)) {
    if (producer) {
      throw new TypeError(
        'wire(): an agent handle needs its task as the target; with a producer, pass agent options.',
      );
    }
    if (options.agent.taskId !== (target as TaskHandle).id) {
      throw new TypeError(`wire(): the agent ${options.agent.id} belongs to another task.`);
    }
  }
  if (options.task !== undefined && !producer) {
    throw new TypeError('wire(): task options apply when the target is a producer that starts the task.');
  }
  const timeout = options.approvalTimeout;
  if (timeout !== undefined && !(timeout > 0 && Number.isFinite(timeout))) {
    throw new RangeError(
      `wire(): approvalTimeout must be a positive number of milliseconds, got ${timeout}.`,
    );
  }
}

/** Starts the task and spawns the agent a run needs, or takes the ones given. */
export async function openTarget(
  target: Target,
  options: WireOptions,
  run: RunDescription,
  agentId: string,
): Promise<Opened> {
  const given = options.agent;
  if (isAgentHandle(given)) {
    return { task: target as TaskHandle, agent: given, ownsTask: false, ownsAgent: false };
  }
  const spawn: SpawnAgentOptions = {
    name: run.agentName,
    ...(run.model !== undefined && { model: run.model }),
    ...given,
    agentId,
  };
  if (isProducer(target)) {
    const task = await target.startTask({ title: run.title, ...options.task });
    const agent = await task.spawnAgent(spawn);
    return { task, agent, ownsTask: true, ownsAgent: true };
  }
  const agent = await target.spawnAgent(spawn);
  return { task: target, agent, ownsTask: false, ownsAgent: true };
}
