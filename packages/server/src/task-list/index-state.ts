import type { TaskState } from '@agentwire/protocol';

/**
 * A task state cut down to what `summarize` reads and what the reducer needs to keep folding it
 * right: which agents, tool calls and questions exist and their status. Texts, results, logs and
 * messages go. Folding on from such a state gives the same summary as folding the full state,
 * because no summary field depends on what was dropped (checked in task-index.test.ts).
 */
export function compactState(s: TaskState): TaskState {
  const out: TaskState = {
    ...s,
    messages: {},
    messageOrder: [],
    logs: [],
    agents: mapValues(s.agents, (a) =>
      a.error === undefined && a.activity === undefined && a.detail === undefined
        ? a
        : { id: a.id, name: a.name, status: a.status, startedAt: a.startedAt },
    ),
    tools: mapValues(s.tools, (t) =>
      t.args === undefined && t.result === undefined && t.error === undefined
        ? t
        : {
            callId: t.callId,
            tool: t.tool,
            status: t.status,
            startedAt: t.startedAt,
            ...(t.agentId !== undefined && { agentId: t.agentId }),
          },
    ),
    questions: mapValues(s.questions, (q) =>
      q.prompt === '' ? q : { questionId: q.questionId, prompt: '', askedAt: q.askedAt, status: q.status },
    ),
  };
  delete out.result;
  delete out.summary;
  delete out.error;
  if (out.progress?.message !== undefined) {
    const { message: _dropped, ...progress } = out.progress;
    out.progress = progress;
  }
  return out;
}

function mapValues<T>(record: Record<string, T>, f: (value: T) => T): Record<string, T> {
  let out: Record<string, T> | undefined;
  for (const key in record) {
    const value = record[key]!;
    const next = f(value);
    if (next !== value) {
      out ??= { ...record };
      out[key] = next;
    }
  }
  return out ?? record;
}
