import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { extractSection, generatedSections } from './catalog-doc.js';
import type { EventDataMap, EventType } from './catalog.js';
import type { AnyEnvelope } from './envelope.js';
import { errorDocument } from './error-doc.js';
import { reduceTaskEvents, type TaskState } from './reducer.js';
import { schemaDocument } from './schema-document.js';

// Compiled to packages/protocol/dist/docs.test.js: the repository root is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

const REGENERATE =
  'npm run docs  (that is: npm run build && node packages/protocol/dist/error-doc.js > docs/errors.md' +
  ' && node packages/protocol/dist/schema-document.js > docs/protocol.schema.json' +
  ' && node packages/protocol/dist/catalog-doc.js docs/protocol.md)';

function assertCurrent(actual: string, expected: string, file: string, command: string): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  const line = a.findIndex((l, i) => l !== e[i]);
  assert.fail(
    `${file} is out of date with the code (first difference at line ${line + 1}:\n` +
      `  committed: ${JSON.stringify(a[line] ?? '<end of file>')}\n` +
      `  generated: ${JSON.stringify(e[line] ?? '<end of file>')}).\nRegenerate it with: ${command}`,
  );
}

describe('generated documents are current', () => {
  it('docs/errors.md matches the error registry', () => {
    assertCurrent(read('docs/errors.md'), errorDocument(), 'docs/errors.md', REGENERATE);
  });

  it('docs/protocol.schema.json matches the schemas', () => {
    assertCurrent(
      read('docs/protocol.schema.json'),
      `${JSON.stringify(schemaDocument(), null, 2)}\n`,
      'docs/protocol.schema.json',
      'npm run schema  (that is: npm run build && node packages/protocol/dist/schema-document.js > docs/protocol.schema.json)',
    );
  });

  for (const [name, render] of Object.entries(generatedSections)) {
    it(`docs/protocol.md "${name}" tables match the catalog`, () => {
      const section = extractSection(read('docs/protocol.md'), name);
      assert.ok(section !== undefined, `docs/protocol.md lost the markers of the "${name}" section`);
      assertCurrent(section, render(), `docs/protocol.md (section "${name}")`, REGENERATE);
    });
  }
});

/** The field names listed in the table under `### heading`, with whether they are marked optional. */
function documentedFields(doc: string, heading: string): Map<string, boolean> {
  const lines = doc.split('\n');
  const start = lines.indexOf(`### ${heading}`);
  assert.ok(start >= 0, `docs/protocol.md has no "### ${heading}" table`);
  const fields = new Map<string, boolean>();
  let i = start + 1;
  while (i < lines.length && !lines[i]!.startsWith('|')) i++;
  for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const match = /^\| `([A-Za-z]+)`(\?)? /.exec(lines[i]!);
    assert.ok(match, `unexpected row under ${heading}: ${lines[i]}`);
    fields.set(match[1]!, match[2] === '?');
  }
  return fields;
}

/** States that between them carry every optional field the reducer can set. */
function foldedStates(): TaskState[] {
  const histories: AnyEnvelope[][] = [];
  const make = (end: (add: <T extends EventType>(type: T, data: EventDataMap[T]) => void) => void) => {
    const events: AnyEnvelope[] = [];
    const add = <T extends EventType>(type: T, data: EventDataMap[T]) => {
      const seq = events.length + 1;
      events.push({
        stream: 'task:doc',
        epoch: 'e',
        seq,
        id: `e${seq}`,
        type,
        time: seq,
        data,
      } as AnyEnvelope);
    };
    add('task:start', {
      taskId: 'doc',
      title: 'Docs',
      kind: 'k',
      projectId: 'p',
      stages: ['a'],
      estimatedMs: 10,
    });
    add('task:stage', { stage: 'a', message: 'm' });
    add('task:progress', { percent: 1, current: 1, total: 2 });
    add('agent:spawned', { agentId: 'a', name: 'A', role: 'r', model: 'm', parentId: 'root' });
    add('agent:progress', { agentId: 'a', status: 's', activity: 'x', percent: 5 });
    add('agent:spawned', { agentId: 'b', name: 'B' });
    add('agent:failed', { agentId: 'b', error: { message: 'x' } });
    add('tool:executing', { callId: 'c1', tool: 't', agentId: 'a', args: {}, attempt: 1 });
    add('tool:complete', { callId: 'c1', durationMs: 1, result: 1 });
    add('tool:executing', { callId: 'c2', tool: 't' });
    add('tool:failed', { callId: 'c2', error: { message: 'x' } });
    add('message:start', { messageId: 'm', role: 'assistant', agentId: 'a' });
    add('question:asked', {
      questionId: 'q',
      prompt: 'p',
      agentId: 'a',
      options: [{ value: 'v' }],
      schema: {},
      timeoutMs: 5,
    });
    add('question:answered', { questionId: 'q', answer: 'v', by: 'u' });
    add('log:entry', { level: 'info', message: 'l', agentId: 'a', fields: { k: 1 } });
    end(add);
    histories.push(events);
  };
  make((add) => add('task:complete', { result: 1, summary: 's' }));
  make((add) => add('task:failed', { error: { message: 'x' }, reason: 'timeout' }));
  make((add) => add('task:cancelled', { by: 'u', reason: 'r' }));
  return histories.map((h) => reduceTaskEvents(h)!);
}

describe('docs/protocol.md task state tables', () => {
  const doc = read('docs/protocol.md');
  const states = foldedStates();
  const kinds: [string, object[]][] = [
    ['TaskState', states],
    ['AgentState', states.flatMap((s) => Object.values(s.agents))],
    ['ToolCallState', states.flatMap((s) => Object.values(s.tools))],
    ['QuestionState', states.flatMap((s) => Object.values(s.questions))],
    ['MessageState', states.flatMap((s) => Object.values(s.messages))],
    ['LogState', states.flatMap((s) => s.logs)],
  ];
  for (const [heading, instances] of kinds) {
    it(`${heading} lists exactly the fields the reducer produces`, () => {
      const documented = documentedFields(doc, heading);
      const produced = new Set(instances.flatMap((o) => Object.keys(o)));
      assert.deepEqual(
        [...documented.keys()].sort(),
        [...produced].sort(),
        `fields of ${heading} in docs/protocol.md`,
      );
      for (const [field, optional] of documented) {
        if (!optional) {
          assert.ok(
            instances.every((o) => field in o),
            `${heading}.${field} is documented as always present`,
          );
        }
      }
    });
  }
});

describe('docs links', () => {
  /** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens. */
  const slug = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^a-z0-9 _-]/g, '')
      .replace(/ /g, '-');

  for (const file of ['docs/protocol.md', 'docs/errors.md']) {
    it(`${file}: every relative link and anchor resolves`, () => {
      const text = read(file).replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const linked = path === '' ? file : `docs/${path}`;
        assert.ok(existsSync(`${root}${linked}`), `${file} links to missing ${linked}`);
        if (anchor === undefined) continue;
        const anchors = read(linked)
          .split('\n')
          .filter((l) => /^#{1,6} /.test(l))
          .map((l) => slug(l.replace(/^#+ /, '')));
        assert.ok(anchors.includes(anchor), `${file} links to #${anchor}, which ${linked} does not have`);
      }
    });
  }
});
