import type { AnyAgent, AgentWithContext } from './sdk-types.js';
import type { TaskHandle } from '@agentwire/agent';
import {
  InputGuardrailTripwireTriggered,
  OutputGuardrailTripwireTriggered,
  Runner,
  type AgentInputItem,
  type RunState,
  type RunToolApprovalItem,
  type StreamRunOptions,
  type StreamedRunResult,
} from '@openai/agents';
import { decideApprovals, type ApprovalPolicy } from './approvals.js';
import { RunRecorder } from './run-recorder.js';

export interface RunAgentOptions<TContext = undefined> extends Omit<StreamRunOptions<TContext>, 'stream'> {
  /** The runner to use (its config, model provider and hooks). Default: `new Runner()`. */
  runner?: Runner;
  /**
   * Who decides tool calls that need approval (`needsApproval`): `'ask'` (the default) asks the
   * task's watchers, anything else is your own decision function.
   */
  approval?: ApprovalPolicy;
}

export type RunInput<TContext> = string | AgentInputItem[] | RunState<TContext, AgentWithContext<TContext>>;

/**
 * Runs an OpenAI Agents SDK agent inside an agentwire task: every agent that runs (the entry agent
 * and each one handed off to) becomes an agent of the task, with its token stream, tool calls,
 * handoffs, guardrail trips and usage. The task's cancel aborts the run through its `signal`, and
 * tool calls that need approval are asked of the task's watchers. Resolves with the finished run;
 * the task itself is left open (a worker completes it with what the handler returns).
 */
export async function runAgent<TContext = undefined>(
  task: TaskHandle,
  agent: AgentWithContext<TContext>,
  input: RunInput<TContext>,
  options: RunAgentOptions<TContext> = {},
): Promise<StreamedRunResult<TContext, AgentWithContext<TContext>>> {
  const { runner = new Runner(), approval = 'ask', signal: own, ...runOptions } = options;
  const signal = own ? AbortSignal.any([task.signal, own]) : task.signal;
  let failure: unknown;
  const recorder = new RunRecorder(task, signal, runner.config.model, (err) => (failure ??= err));
  let next: RunInput<TContext> = input;
  let from: AnyAgent = agent;
  let result: StreamedRunResult<TContext, AgentWithContext<TContext>>;
  try {
    for (;;) {
      signal.throwIfAborted();
      recorder.begin(from);
      result = await runner.run(agent, next, { ...runOptions, stream: true, signal });
      for await (const event of result) recorder.record(event);
      await result.completed;
      if (result.error !== undefined && result.error !== null) throw result.error;
      signal.throwIfAborted();
      const interruptions: RunToolApprovalItem[] = result.interruptions ?? [];
      if (interruptions.length === 0) break;
      await decideApprovals(task, recorder, result.state, interruptions, approval, signal);
      next = result.state;
      from = result.lastAgent ?? from;
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    await recordTrip(task, recorder, err);
    await recorder.finish({ error: err });
    throw err;
  }
  await recorder.finish({ output: result.finalOutput });
  if (!signal.aborted && recorder.usage.requests > 0) await task.custom('usage', { ...recorder.usage });
  if (failure !== undefined) throw failure;
  return result;
}

/** A guardrail that tripped is its own event, so watchers see which one stopped the run and why. */
async function recordTrip(task: TaskHandle, recorder: RunRecorder, err: unknown): Promise<void> {
  let trip: { kind: string; name: string; agent?: AnyAgent; info: unknown } | undefined;
  if (err instanceof InputGuardrailTripwireTriggered) {
    trip = { kind: 'input', name: err.result.guardrail.name, info: err.result.output.outputInfo };
  } else if (err instanceof OutputGuardrailTripwireTriggered) {
    trip = {
      kind: 'output',
      name: err.result.guardrail.name,
      agent: err.result.agent,
      info: err.result.output.outputInfo,
    };
  }
  if (!trip) return;
  const agentId = trip.agent ? (await recorder.agentFor(trip.agent)).id : undefined;
  await task.custom('guardrail', {
    kind: trip.kind,
    guardrail: trip.name,
    tripwireTriggered: true,
    ...(agentId !== undefined && { agentId }),
    ...(trip.info !== undefined && { info: trip.info }),
  });
  await task.log('warn', `The ${trip.kind} guardrail "${trip.name}" stopped the run`, {
    guardrail: trip.name,
  });
}
