import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { catalog, type EventType } from './catalog.js';
import { CommandSchema, type CommandType } from './commands.js';
import { ErrorInfo } from './events/common.js';
import { cell, code, table } from './markdown.js';
import { SNAPSHOT_LOG_LIMIT } from './reducer.js';
import { STREAM_NAME_PATTERN } from './streams.js';

/**
 * The catalog tables of docs/protocol.md, rendered from the same schemas the code validates with.
 * The prose lives in the maps below, typed over the catalog, so a new event type or command cannot
 * be added without its documentation.
 */

interface EventDoc {
  /** What happened. */
  means: string;
  /** How `reduceTask` folds it into the task state. */
  state: string;
}

export const eventDocs: Record<EventType, EventDoc> = {
  'task:start': {
    means: 'A task began. Usually the first event of a `task:<id>` stream.',
    state:
      'Sets `title`, `kind`, `projectId`, `stages`, `estimatedMs`, `startedAt`; `status` becomes `running` unless the task already ended.',
  },
  'task:progress': {
    means: 'Overall progress of the task. Every field is optional; send what you know.',
    state: 'Merges the fields present into `progress`; `pending` becomes `running`.',
  },
  'task:stage': {
    means: 'The task entered a named stage (ideally one of `task:start` `stages`).',
    state: 'Sets `stage`; `message`, if present, replaces `progress.message`.',
  },
  'task:complete': {
    means: 'The task finished successfully.',
    state:
      '`status` `completed`, `result`, `summary`, `endedAt`, `progress.percent` 100; running agents become `completed`, running tool calls `cancelled`.',
  },
  'task:failed': {
    means:
      'The task failed. `reason` says why: an error, no producer left (`orphaned`), or a deadline (`timeout`).',
    state:
      '`status` `failed`, `error`, `failureReason` (default `error`), `endedAt`; running agents become `failed`, running tool calls `cancelled`.',
  },
  'task:cancelled': {
    means: 'The task was cancelled (the effect of a `cancel` command), or with `agentId` only that agent.',
    state:
      'Without `agentId`: `status` `cancelled`, `cancelledBy`, `cancelReason`, `endedAt`; running agents and tool calls become `cancelled`. With `agentId`: only that agent and its running tool calls.',
  },
  'agent:spawned': {
    means: 'An agent started working on the task; `parentId` builds the agent tree.',
    state: 'Adds `agents[agentId]` as `running` and appends to `agentOrder`; `pending` becomes `running`.',
  },
  'agent:progress': {
    means: 'What an agent is doing now.',
    state: 'Sets the agent `detail` (from `status`), `activity` and `percent`, for the fields present.',
  },
  'agent:complete': {
    means: 'An agent finished its part.',
    state: 'Agent `status` `completed`, `endedAt`, `percent` 100.',
  },
  'agent:failed': { means: 'An agent failed.', state: 'Agent `status` `failed`, `endedAt`, `error`.' },
  'agent:handoff': {
    means: 'Agent `from` handed the work to agent `to`.',
    state: 'Sets the `from` agent `activity` to `handed off to <to>`.',
  },
  'tool:executing': {
    means: 'A tool call started. A retry reuses the `callId` with a higher `attempt`.',
    state:
      'Sets `tools[callId]` to `running` (replacing an earlier attempt) and appends new ids to `toolOrder`; the agent `activity` becomes `calling <tool>`.',
  },
  'tool:complete': {
    means: 'A tool call returned.',
    state: 'Tool call `status` `completed`, `result`, `durationMs`, `endedAt`.',
  },
  'tool:failed': {
    means: 'A tool call failed; `retryable` hints that another attempt may follow.',
    state: 'Tool call `status` `failed`, `error`, `durationMs`, `endedAt`.',
  },
  'message:start': {
    means: 'A streamed message began: one `message:start`, any number of `message:delta`, one `message:end`.',
    state: 'Adds `messages[messageId]` with empty `text`, `done` false; appends to `messageOrder`.',
  },
  'message:delta': {
    means: 'The next chunk of a streamed message.',
    state: 'Appends `delta` to the message `text` (ignored for an unknown `messageId`).',
  },
  'message:end': { means: 'A streamed message is complete.', state: 'Sets the message `done`.' },
  'chat:message': {
    means: 'A watcher sent a message into the task (the effect of a `message` command).',
    state: 'Adds a finished message with `role` `user`.',
  },
  'memory:recalled': {
    means: 'An agent retrieved memories.',
    state: 'Adds the number of `memories` to `memoriesRecalled`.',
  },
  'log:entry': {
    means: 'A log line from the task or one of its agents.',
    state: `Appends to \`logs\`, keeping only the last ${SNAPSHOT_LOG_LIMIT}; the full history stays in the stream.`,
  },
  'question:asked': {
    means: 'An agent asks the watchers a question and usually waits for the answer.',
    state: 'Adds `questions[questionId]` as `open`, with `askedAt`.',
  },
  'question:answered': {
    means: 'A question was answered (the effect of an `answer` command) or timed out (`timedOut`).',
    state: 'Question `status` `answered` or `timedout`, with `answer` and `by`.',
  },
  'custom:event': {
    means: 'A producer-defined event; `name` is yours, `payload` is opaque to agentwire.',
    state: 'None (only `seq`, `updatedAt`, `eventCount` advance).',
  },
  'system:health': { means: 'Gateway or worker health, on the `system` stream.', state: 'None.' },
  'system:performance': { means: 'Numeric metrics, on the `system` stream.', state: 'None.' },
  'system:alert': { means: 'An operational alert, on the `system` stream.', state: 'None.' },
  'project:event': {
    means:
      "In a `project:<id>` stream: one event of one of the project's tasks, its envelope as `data`. Written by the gateway only.",
    state: 'None (fold `data` into the state of the task it names).',
  },
};

export const commandDocs: Record<CommandType, { means: string; effect: string }> = {
  cancel: {
    means: 'Cancel a task, or only one of its agents with `agentId`.',
    effect: '`task:cancelled` in the task stream',
  },
  answer: { means: 'Answer an open question.', effect: '`question:answered` in the task stream' },
  message: { means: 'Send a chat message into a running task.', effect: '`chat:message` in the task stream' },
  start: {
    means: 'Ask a worker that handles `kind` to start a task.',
    effect: 'a new `task:<taskId>` stream opening with `task:start`',
  },
};

type Json = Record<string, unknown>;
interface Field {
  name: string;
  type: string;
  required: boolean;
  notes: string;
}

/** The plain JSON Schema of a TypeBox schema, as in docs/protocol.schema.json. */
function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

function range(min: unknown, max: unknown, unit: string): string | undefined {
  const u = unit ? ` ${unit}` : '';
  if (min !== undefined && max !== undefined) return `${String(min)}-${String(max)}${u}`;
  if (max !== undefined) return `max ${String(max)}${u}`;
  if (min !== undefined) return `min ${String(min)}${u}`;
  return undefined;
}

function constraints(s: Json): string[] {
  const out: string[] = [];
  const minLength = s.minLength === 0 ? undefined : s.minLength;
  const add = (text: string | undefined) => text && out.push(text);
  if (s.type === 'string') add(range(minLength, s.maxLength, 'chars'));
  if (s.type === 'number' || s.type === 'integer') add(range(s.minimum, s.maximum, ''));
  if (s.type === 'array') add(range(s.minItems, s.maxItems, 'items'));
  if (s.pattern === STREAM_NAME_PATTERN) return ['a stream name, see [Streams](#streams)'];
  if (typeof s.pattern === 'string') out.push(`pattern ${code(s.pattern)}`);
  if (s.description === 'milliseconds') out.push('milliseconds');
  else if (typeof s.description === 'string') out.push(cell(s.description));
  return out;
}

/** Renders one schema as a type expression, adding rows for the fields of nested anonymous objects. */
function typeOf(s: Json, path: string, rows: Field[]): string {
  if (typeof s.$id === 'string') return s.$id;
  if (Array.isArray(s.anyOf)) {
    const options = s.anyOf as Json[];
    if (options.every((o) => 'const' in o)) return options.map((o) => JSON.stringify(o.const)).join(' | ');
    return options.map((o) => typeOf(o, path, rows)).join(' | ');
  }
  switch (s.type) {
    case 'array':
      return `${typeOf(s.items as Json, `${path}[]`, rows)}[]`;
    case 'object': {
      if (s.patternProperties) {
        const values = Object.values(s.patternProperties as Record<string, Json>)[0] ?? {};
        return `map of string to ${typeOf(values, `${path}{}`, rows)}`;
      }
      fields(s, `${path}.`, rows);
      return 'object';
    }
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return s.type;
    case undefined:
      return 'any';
    default:
      throw new Error(`No rendering for schema type ${JSON.stringify(s.type)} at ${path}.`);
  }
}

function fields(object: Json, prefix: string, rows: Field[]): void {
  const required = new Set((object.required as string[] | undefined) ?? []);
  for (const [name, schema] of Object.entries((object.properties as Record<string, Json>) ?? {})) {
    const row: Field = { name: `${prefix}${name}`, type: '', required: required.has(name), notes: '' };
    rows.push(row);
    row.type = typeOf(schema, row.name, rows);
    row.notes = constraints(schema).join(', ');
  }
}

function fieldTable(
  first: string,
  entries: [string, TSchema][],
  skip: (field: string) => boolean = () => false,
) {
  const rows: string[][] = [];
  for (const [name, schema] of entries) {
    const found: Field[] = [];
    fields(plain(schema), '', found);
    for (const f of found.filter((x) => !skip(x.name))) {
      rows.push([code(name), code(f.name), code(f.type), f.required ? 'yes' : 'no', f.notes]);
    }
  }
  return table([first, 'field', 'type', 'required', 'notes'], rows);
}

/** The event catalog section: one heading per noun, what each event means, its effect and its fields. */
export function eventCatalogSection(): string {
  const nouns = new Map<string, EventType[]>();
  for (const type of Object.keys(catalog) as EventType[]) {
    const noun = type.slice(0, type.indexOf(':'));
    nouns.set(noun, [...(nouns.get(noun) ?? []), type]);
  }
  const parts: string[] = [];
  for (const [noun, types] of nouns) {
    parts.push(
      `### ${noun}`,
      table(
        ['type', 'meaning', 'effect on the task state'],
        types.map((t) => [code(t), cell(eventDocs[t].means), cell(eventDocs[t].state)]),
      ),
      fieldTable(
        'type',
        types.map((t) => [t, catalog[t]]),
      ),
    );
  }
  parts.push(
    '### Shared types',
    fieldTable('type', [['ErrorInfo', { ...ErrorInfo, $id: undefined } as TSchema]]),
  );
  return parts.join('\n\n');
}

/** The command section: what each command asks for, the event that records its effect, its fields. */
export function commandSection(): string {
  const variants = (plain(CommandSchema).anyOf as Json[]).map((s) => {
    const type = (s.properties as Record<string, Json>).type!.const as CommandType;
    return [type, s] as [CommandType, Json];
  });
  return [
    table(
      ['command', 'meaning', 'effect, once routed'],
      variants.map(([t]) => [code(t), cell(commandDocs[t].means), commandDocs[t].effect]),
    ),
    fieldTable(
      'command',
      variants.map(([t, s]) => [t, s as unknown as TSchema]),
      (field) => field === 'type',
    ),
  ].join('\n\n');
}

/** Blocks of docs/protocol.md that are generated, by marker name. */
export const generatedSections: Record<string, () => string> = {
  events: eventCatalogSection,
  commands: commandSection,
};

const begin = (name: string) => `<!-- generated:${name} (npm run docs) -->`;
const end = (name: string) => `<!-- /generated:${name} -->`;

/** The text between a section's markers, without the blank lines around it; undefined if absent. */
export function extractSection(doc: string, name: string): string | undefined {
  const start = doc.indexOf(begin(name));
  const stop = doc.indexOf(end(name));
  if (start < 0 || stop < start) return undefined;
  return doc.slice(start + begin(name).length, stop).trim();
}

/** `doc` with every generated section replaced by what the code renders now. */
export function updateDocument(doc: string): string {
  let out = doc;
  for (const [name, render] of Object.entries(generatedSections)) {
    const start = out.indexOf(begin(name));
    const stop = out.indexOf(end(name));
    if (start < 0 || stop < start) throw new Error(`Markers for the "${name}" section are missing.`);
    out = `${out.slice(0, start)}${begin(name)}\n\n${render()}\n\n${out.slice(stop)}`;
  }
  return out;
}

// `node catalog-doc.js docs/protocol.md` rewrites the sections in place; without a path it prints them.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (file) writeFileSync(file, updateDocument(readFileSync(file, 'utf8')));
  else for (const render of Object.values(generatedSections)) process.stdout.write(`${render()}\n\n`);
}
