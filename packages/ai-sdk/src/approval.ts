import type { ModelMessage, ToolApprovalStatus } from 'ai';
import type { Run, ToolCallInfo } from './run.js';

type Status = Exclude<ToolApprovalStatus, undefined | string>;

/** What the SDK hands a generic `toolApproval` function. */
export interface ApprovalRequest {
  toolCall: ToolCallInfo;
  tools: Record<string, unknown> | undefined;
  toolsContext: Record<string, unknown> | undefined;
  runtimeContext: unknown;
  messages: ModelMessage[];
}

/**
 * A `toolApproval` function for generateText/streamText that decides as the caller's own
 * configuration would (their `toolApproval`, else a tool's `needsApproval`), except that a call
 * needing a user's approval is asked of the watchers, and runs or is denied by their answer within
 * the same call.
 */
export function approvalByWatchers(run: Run, configured: unknown) {
  return async (request: ApprovalRequest): Promise<Status> => {
    const status = normalize(await configuredStatus(configured, request));
    // A call approved in an earlier turn is checked again when its approval is replayed from the
    // messages; anything but a denial keeps it approved, so it is not asked twice.
    if (status.type !== 'user-approval' || requestedBefore(request.messages, request.toolCall.toolCallId)) {
      return status;
    }
    const decision = await run.approve(request.toolCall, status.reason);
    return { type: decision.approved ? 'approved' : 'denied', reason: decision.reason };
  };
}

/**
 * The status the SDK would compute without us: a `toolApproval` function, else the tool's entry in a
 * `toolApproval` map, else the tool's own (deprecated) `needsApproval`. Tool context reaches these
 * functions as given; the SDK would also check it against the tool's `contextSchema`.
 */
async function configuredStatus(configured: unknown, request: ApprovalRequest): Promise<ToolApprovalStatus> {
  if (typeof configured === 'function') {
    return (configured as (r: ApprovalRequest) => ToolApprovalStatus | PromiseLike<ToolApprovalStatus>)(
      request,
    );
  }
  const { toolCall, messages, runtimeContext } = request;
  const name = toolCall.toolName;
  const toolContext = own(request.toolsContext, name);
  const entry = own(configured, name);
  if (entry !== undefined && entry !== null) {
    if (typeof entry !== 'function') return entry as ToolApprovalStatus;
    return (
      entry as (input: unknown, options: unknown) => ToolApprovalStatus | PromiseLike<ToolApprovalStatus>
    )(toolCall.input, { toolCallId: toolCall.toolCallId, messages, toolContext, runtimeContext });
  }
  const needsApproval = (own(request.tools, name) as { needsApproval?: unknown } | undefined)?.needsApproval;
  if (needsApproval === undefined || needsApproval === null) return 'not-applicable';
  const needed =
    typeof needsApproval === 'function'
      ? await (needsApproval as (input: unknown, options: unknown) => boolean | PromiseLike<boolean>)(
          toolCall.input,
          { toolCallId: toolCall.toolCallId, messages, context: toolContext },
        )
      : needsApproval;
  return needed ? 'user-approval' : 'not-applicable';
}

function normalize(status: ToolApprovalStatus): Status {
  if (status === undefined) return { type: 'not-applicable' };
  return typeof status === 'string' ? ({ type: status } as Status) : status;
}

function own(record: unknown, key: string): unknown {
  return typeof record === 'object' && record !== null && Object.prototype.hasOwnProperty.call(record, key)
    ? (record as Record<string, unknown>)[key]
    : undefined;
}

function requestedBefore(messages: ModelMessage[], toolCallId: string): boolean {
  return messages.some(
    (m) =>
      m.role === 'assistant' &&
      Array.isArray(m.content) &&
      m.content.some((p) => p.type === 'tool-approval-request' && p.toolCallId === toolCallId),
  );
}
