import type { EventType } from '@agentwire/protocol';

/**
 * Seed 002's messages, accepted as its agents publish them to `agent.events`, mapped onto the
 * canonical catalog. A request is a task (`task:<requestId>`), a step is a tool call (`callId` =
 * `stepId`), so the seed's progress dialect sends the same messages back out to its frontend.
 *
 * The mapping is this table and nothing else: each rule names the seed type (and status, where the
 * seed encodes the meaning in a status field) and builds the canonical data from the message.
 * Whatever it builds is validated against the catalog like any other event.
 */
export interface SeedRule {
  /** The seed's `type`. `*` stands for one dot-separated word, as in an AMQP topic binding. */
  type: string;
  /** Only messages whose `data.status` (or top-level `status`) is this one. */
  status?: string;
  event: EventType;
  data: (m: SeedView) => Record<string, unknown>;
}

/** Read-only accessors over an untrusted seed message; every field may be missing or mistyped. */
export interface SeedView {
  /** The message itself. */
  raw: Record<string, unknown>;
  /** `data` when it is an object, else an empty object. */
  d: Record<string, unknown>;
  /** A field as text: strings as they are, finite numbers in decimal, anything else undefined. */
  text(value: unknown): string | undefined;
  number(value: unknown): number | undefined;
  /** `agent`, the name seed 002 gives an agent; it doubles as the agent's id. */
  agent: string | undefined;
  /** `data.stepId`, else `step-<stepOrder>`, else `step-<step>`. */
  stepId: string | undefined;
  /** An error object for the catalog from whatever the seed put there (text, `{message}`, nothing). */
  error(fallback: string): { message: string; code?: string };
}

const step = '*.step.progress';

export const seed002Rules: readonly SeedRule[] = [
  {
    type: step,
    status: 'running',
    event: 'tool:executing',
    data: (m) => ({
      callId: m.stepId,
      tool: m.text(m.d.tool) ?? m.text(m.d.action) ?? 'step',
      agentId: m.agent,
      args: m.d.args,
    }),
  },
  {
    type: step,
    status: 'completed',
    event: 'tool:complete',
    // The seed sends no duration; the catalog requires one, so 0 unless the producer adds it.
    data: (m) => ({
      callId: m.stepId,
      tool: m.text(m.d.tool),
      agentId: m.agent,
      durationMs: m.number(m.d.durationMs) ?? 0,
      result: m.d.result,
    }),
  },
  {
    type: step,
    status: 'failed',
    event: 'tool:failed',
    data: (m) => ({
      callId: m.stepId,
      tool: m.text(m.d.tool),
      agentId: m.agent,
      error: m.error('The step failed.'),
      durationMs: m.number(m.d.durationMs),
    }),
  },
  {
    type: 'agent.started',
    event: 'agent:spawned',
    data: (m) => ({ agentId: m.agent, name: m.agent, role: m.text(m.d.role), model: m.text(m.d.model) }),
  },
  {
    type: 'agent.progress',
    event: 'agent:progress',
    data: (m) => ({
      agentId: m.agent,
      status: m.text(m.d.status),
      activity: m.text(m.d.activity) ?? m.text(m.d.message),
      percent: m.number(m.d.percent),
    }),
  },
  {
    type: 'agent.completed',
    event: 'agent:complete',
    data: (m) => ({ agentId: m.agent, result: m.raw.data }),
  },
  {
    type: 'agent.failed',
    event: 'agent:failed',
    data: (m) => ({ agentId: m.agent, error: m.error('The agent failed.') }),
  },
  {
    type: 'request.started',
    event: 'task:start',
    data: (m) => ({
      taskId: m.text(m.raw.requestId),
      title: (m.text(m.raw.userQuery) ?? m.text(m.raw.requestId) ?? 'request').slice(0, 500),
      kind: 'request',
      input:
        m.raw.userQuery === undefined && m.raw.context === undefined
          ? undefined
          : { userQuery: m.raw.userQuery, context: m.raw.context },
    }),
  },
  {
    type: 'request.completed',
    event: 'task:complete',
    data: (m) => ({ result: m.raw.result ?? m.d.result }),
  },
  { type: 'request.failed', event: 'task:failed', data: (m) => ({ error: m.error('The request failed.') }) },
  {
    type: 'request.cancelled',
    event: 'task:cancelled',
    data: (m) => ({ reason: m.text(m.raw.reason) ?? m.text(m.d.reason), by: m.text(m.raw.by) }),
  },
  // The guide's server-to-client `progress` shape, for producers that publish it directly.
  {
    type: 'progress',
    event: 'agent:progress',
    data: (m) => ({
      agentId: m.agent ?? 'agent',
      status: m.text(m.raw.status) ?? m.text(m.d.status),
      activity: m.text(m.d.message) ?? m.text(m.d.activity),
      percent: m.number(m.d.percent),
    }),
  },
  {
    type: 'error',
    event: 'log:entry',
    data: (m) => ({
      level: 'error',
      message: m.text(m.raw.message) ?? 'error',
      agentId: m.agent,
      fields: m.raw.step === undefined ? undefined : { step: m.raw.step },
    }),
  },
];

/** Does a seed type match a rule's pattern (`*` = one word)? */
export function seedTypeMatches(pattern: string, type: string): boolean {
  const want = pattern.split('.');
  const got = type.split('.');
  return want.length === got.length && want.every((w, i) => w === '*' || w === got[i]);
}

/** Is this a type some rule reads (any status)? */
export function isSeedType(type: string): boolean {
  return seed002Rules.some((r) => seedTypeMatches(r.type, type));
}
