import type { TaskHandle } from '@agentwire/agent';
import type { RunState, RunToolApprovalItem } from '@openai/agents';
import type { RunRecorder } from './run-recorder.js';
import type { AgentWithContext } from './sdk-types.js';

/** One tool call waiting for approval, as a decision function sees it. */
export interface ApprovalRequest {
  agentName: string;
  toolName: string;
  callId: string | undefined;
  /** The call's arguments, parsed from JSON where they are JSON. */
  args: unknown;
}

/** `'ask'`: the task's watchers decide, one question per call. Or decide in code. */
export type ApprovalPolicy = 'ask' | ((request: ApprovalRequest) => boolean | Promise<boolean>);

const APPROVE = 'approve';
const REJECT = 'reject';

/**
 * Settles every pending approval of a run: approved calls go ahead when the run resumes, refused
 * ones go back to the model as refused (and end failed for the watchers).
 */
export async function decideApprovals<TContext>(
  task: TaskHandle,
  recorder: RunRecorder,
  state: RunState<TContext, AgentWithContext<TContext>>,
  items: readonly RunToolApprovalItem[],
  policy: ApprovalPolicy,
  signal: AbortSignal,
): Promise<void> {
  for (const item of items) {
    const request: ApprovalRequest = {
      agentName: item.agent.name,
      toolName: item.name ?? 'tool',
      callId: 'callId' in item.rawItem ? item.rawItem.callId : undefined,
      args: parse(item.arguments),
    };
    const approved =
      policy === 'ask' ? await askWatchers(task, recorder, item, request, signal) : await policy(request);
    signal.throwIfAborted();
    if (approved) state.approve(item);
    else {
      state.reject(item);
      if (request.callId !== undefined) recorder.rejectTool(request.callId, 'A watcher refused this call.');
    }
  }
}

async function askWatchers(
  task: TaskHandle,
  recorder: RunRecorder,
  item: RunToolApprovalItem,
  request: ApprovalRequest,
  signal: AbortSignal,
): Promise<boolean> {
  const agent = await recorder.agentFor(item.agent);
  const args = item.arguments ?? '';
  const shown = args.length > 500 ? `${args.slice(0, 500)}…` : args;
  const { answer } = await task.ask<string>(
    `${request.agentName} wants to call ${request.toolName}(${shown}). Allow it?`,
    {
      options: [
        { value: APPROVE, label: 'Approve' },
        { value: REJECT, label: 'Reject' },
      ],
      agent,
      signal,
    },
  );
  return answer === APPROVE;
}

function parse(args: string | undefined): unknown {
  if (args === undefined) return undefined;
  try {
    return JSON.parse(args) as unknown;
  } catch {
    return args;
  }
}
