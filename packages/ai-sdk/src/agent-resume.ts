import type { ModelMessage, ToolApprovalRequestOutput, ToolSet } from 'ai';
import type { Run } from './run.js';

interface AgentResult {
  content: ReadonlyArray<{ type: string }>;
  responseMessages: ReadonlyArray<unknown>;
}

interface AgentCall {
  prompt?: unknown;
  messages?: unknown;
}

/**
 * An agent's call ends when a tool call needs a user's approval, as the SDK's tool loop does. This
 * asks the watchers about each such call and returns the call that resumes the run with their
 * answers (the SDK's own continuation: the response messages, then the approval responses), or
 * undefined when nothing waits for approval.
 */
export async function resumeAgent<C extends AgentCall>(
  run: Run,
  call: C,
  result: AgentResult,
): Promise<C | undefined> {
  const pending = result.content.filter(
    (part): part is ToolApprovalRequestOutput<ToolSet> =>
      part.type === 'tool-approval-request' && !(part as ToolApprovalRequestOutput<ToolSet>).isAutomatic,
  );
  if (pending.length === 0) return undefined;
  const responses = await Promise.all(
    pending.map(async (request) => {
      const decision = await run.approve(request.toolCall, request.reason);
      return {
        type: 'tool-approval-response' as const,
        approvalId: request.approvalId,
        approved: decision.approved,
        reason: decision.reason,
        ...(request.toolCall.providerExecuted === true && { providerExecuted: true }),
      };
    }),
  );
  const { prompt, messages, ...rest } = call;
  const history: unknown[] = Array.isArray(messages)
    ? messages
    : typeof prompt === 'string'
      ? [{ role: 'user', content: prompt } satisfies ModelMessage]
      : Array.isArray(prompt)
        ? prompt
        : [];
  return {
    ...rest,
    messages: [
      ...history,
      ...result.responseMessages,
      { role: 'tool', content: responses } satisfies ModelMessage,
    ],
  } as unknown as C;
}
