import type { AgentWithContext } from './sdk-types.js';
import type { Producer, StartTaskOptions } from '@agentwire/agent';
import type { StreamedRunResult } from '@openai/agents';
import { runAgent, type RunAgentOptions, type RunInput } from './run-agent.js';

/**
 * Starts a task for one agent run and ends it with the run: completed with the final output,
 * failed with the run's error, or cancelled by a watcher (then the run was aborted).
 */
export async function runTask<TContext = undefined>(
  producer: Producer,
  agent: AgentWithContext<TContext>,
  input: RunInput<TContext>,
  options: RunAgentOptions<TContext> & { task?: Partial<StartTaskOptions> } = {},
): Promise<StreamedRunResult<TContext, AgentWithContext<TContext>>> {
  const { task: taskOptions, ...runOptions } = options;
  const task = await producer.startTask({
    title: typeof input === 'string' ? input.slice(0, 200) || agent.name : agent.name,
    kind: 'openai-agents',
    ...taskOptions,
  });
  try {
    const result = await runAgent(task, agent, input, runOptions);
    await task.complete(result.finalOutput);
    return result;
  } catch (err) {
    if (!task.ended && !task.signal.aborted) await task.fail(err);
    throw err;
  }
}
