import type { AgUiInterrupt, QuestionState, Since } from '@agentwire/protocol';

/**
 * A question as an AG-UI interrupt. The interrupt's id is the question's id followed by where the
 * run that raised it stopped (`<questionId>@<seq>@<epoch>`): `HttpAgent` hands the id back
 * unchanged in its resume entry, so the resumed run continues exactly after the last event that
 * client holds, without the application keeping any position itself.
 */
export function toInterrupt(q: QuestionState, at: Required<Since>, attributed: boolean): AgUiInterrupt {
  const schema = responseSchema(q);
  return {
    id: `${q.questionId}@${at.seq}@${at.epoch}`,
    reason: 'question',
    message: q.prompt,
    ...(schema && { responseSchema: schema }),
    ...(q.timeoutMs !== undefined && { expiresAt: new Date(q.askedAt + q.timeoutMs).toISOString() }),
    ...(attributed && q.agentId !== undefined && { subagentRunId: q.agentId }),
    metadata: {
      agentwire: {
        questionId: q.questionId,
        seq: at.seq,
        epoch: at.epoch,
        ...(q.options && { options: q.options }),
      },
    },
  };
}

/** A question with options takes one of their values; with a schema, that schema; else any answer. */
function responseSchema(q: QuestionState): Record<string, unknown> | undefined {
  if (q.schema) return q.schema;
  if (q.options) return { type: 'string', enum: q.options.map((o) => o.value) };
  return undefined;
}

export interface InterruptRef {
  questionId: string;
  /** Where the run that raised it stopped, when the id says. */
  at?: Required<Since>;
}

/** Reads an interrupt id back: ours carry the position; a bare question id is accepted too. */
export function parseInterruptId(id: string): InterruptRef {
  const match = /^(.+)@(\d{1,16})@([^@]{1,64})$/.exec(id);
  if (!match) return { questionId: id };
  return { questionId: match[1]!, at: { seq: Number(match[2]), epoch: match[3]! } };
}
