import type { IncomingMessage } from 'node:http';
import { Type, type Static } from '@sinclair/typebox';
import {
  AgentwireError,
  agUiText,
  assertSchema,
  SinceSchema,
  type AgUiRunInput,
  type Since,
} from '@agentwire/protocol';
import { flagParam, sinceFrom } from '../transports/http-params.js';

/** The task kind an AG-UI run starts when neither the request nor the URL names one. */
export const DEFAULT_AGUI_KIND = 'agent';

/** What a client may say to agentwire inside `forwardedProps.agentwire` (docs/agui.md). */
const AgentwireProps = Type.Object(
  {
    kind: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    title: Type.Optional(Type.String({ maxLength: 500 })),
    projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    input: Type.Optional(Type.Unknown()),
    since: Type.Optional(SinceSchema),
    interrupts: Type.Optional(Type.Boolean()),
    cancel: Type.Optional(
      Type.Union([Type.Boolean(), Type.Object({ reason: Type.Optional(Type.String()) })]),
    ),
  },
  { additionalProperties: false },
);
type AgentwireProps = Static<typeof AgentwireProps>;

export interface AgUiRunOptions {
  kind: string;
  title: string;
  projectId?: string;
  /** The `input` of the task a new thread starts. */
  input: unknown;
  /** Where the client already is, if it said (`Last-Event-ID`, `?since=`, `forwardedProps`). */
  since?: Since;
  interrupts: boolean;
  /** Cancel the thread's task (and stream until it has ended). */
  cancel?: { reason?: string };
}

/**
 * Reads agentwire's options for one run from the request (`Last-Event-ID`, `?kind=`, `?since=`,
 * `?epoch=`, `?interrupts=`) and the input's `forwardedProps.agentwire`, the request winning. Bad
 * values are refused with typed errors, never guessed at.
 */
export function runOptions(req: IncomingMessage, url: URL, input: AgUiRunInput): AgUiRunOptions {
  const props = agentwireProps(input.forwardedProps);
  const epoch = url.searchParams.get('epoch') || null;
  const header = req.headers['last-event-id'];
  const since =
    (typeof header === 'string' && header !== ''
      ? sinceFrom(header, epoch, 'Last-Event-ID')
      : sinceFrom(url.searchParams.get('since') || undefined, epoch, 'Query parameter since')) ?? props.since;
  const kind = url.searchParams.get('kind') || props.kind || DEFAULT_AGUI_KIND;
  if (kind.length > 128) {
    throw new AgentwireError('invalid_message', 'Query parameter kind must be at most 128 characters.');
  }
  const interrupts = url.searchParams.has('interrupts')
    ? flagParam(url, 'interrupts')
    : (props.interrupts ?? true);
  const prompt = lastUserText(input);
  const cancel = props.cancel === true ? {} : props.cancel === false ? undefined : props.cancel;
  return {
    kind,
    title: props.title ?? (prompt.trim() ? prompt.trim().slice(0, 120) : kind),
    ...(props.projectId !== undefined && { projectId: props.projectId }),
    input: props.input !== undefined ? props.input : taskInput(input, prompt),
    ...(since && { since }),
    interrupts,
    ...(cancel && { cancel }),
  };
}

function agentwireProps(forwarded: unknown): AgentwireProps {
  if (typeof forwarded !== 'object' || forwarded === null) return {};
  const props = (forwarded as { agentwire?: unknown }).agentwire;
  if (props === undefined) return {};
  assertSchema(AgentwireProps, props, 'invalid_message', 'Invalid forwardedProps.agentwire');
  return props as AgentwireProps;
}

/**
 * A new thread's task input: the prompt (the last user message's text) and the run's own fields,
 * so a worker can read just the prompt or the whole conversation. `messages` is also what a late
 * joiner's `MESSAGES_SNAPSHOT` starts with.
 */
function taskInput(input: AgUiRunInput, prompt: string): Record<string, unknown> {
  const { agentwire: _ours, ...forwarded } = (
    typeof input.forwardedProps === 'object' && input.forwardedProps !== null ? input.forwardedProps : {}
  ) as Record<string, unknown>;
  return {
    prompt,
    messages: input.messages,
    ...(input.state !== undefined && { state: input.state }),
    ...(input.context?.length && { context: input.context }),
    ...(input.tools?.length && { tools: input.tools }),
    ...(Object.keys(forwarded).length > 0 && { forwardedProps: forwarded }),
  };
}

function lastUserText(input: AgUiRunInput): string {
  for (let i = input.messages.length - 1; i >= 0; i--) {
    const m = input.messages[i]!;
    if (m.role === 'user') return agUiText(m.content);
  }
  return '';
}
