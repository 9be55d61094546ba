import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  errorCodes,
  isStreamName,
  MAX_STREAM_NAME_LENGTH,
  PROJECT_STREAM_PREFIX,
  projectIdOf,
  projectStream,
  STREAM_NAME_PATTERN,
  SYSTEM_STREAM,
  TASK_STREAM_PREFIX,
  taskIdOf,
  taskStream,
  unsupportedSchema,
} from '@agentwire/protocol';
import type { Gateway } from '@agentwire/server';
import { findPython, installedPython, packageDir, run, secureGateway } from './python-env.js';

const testsDir = join(packageDir, 'tests');
const found = findPython();

describe('Python SDK (python/): the real python3 against a secure gateway', () => {
  let python: string;
  let dispose = () => {};
  let gw: Gateway;
  let producerToken: string;
  let watcherToken: string;

  before(async () => {
    if (!found.python) return;
    ({ python, dispose } = await installedPython(found.python));
    ({ gw, producerToken, watcherToken } = await secureGateway());
  });
  after(async () => {
    dispose();
    await gw?.close();
  });

  const watcher = (path: string, init: RequestInit = {}) =>
    fetch(`${gw.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${watcherToken}`, 'content-type': 'application/json' },
    });

  it('passes its unittest suite, installed by pip from the folder', { skip: found.skip }, async () => {
    const result = await run(python, ['-m', 'unittest', 'discover', '-s', testsDir, '-t', testsDir, '-v'], {
      env: {
        AGENTWIRE_URL: gw.url,
        AGENTWIRE_TOKEN: producerToken,
        AGENTWIRE_WATCHER_TOKEN: watcherToken,
        AGENTWIRE_INSTALLED: '1',
      },
    });
    const report = `${result.out}\n${result.err}`;
    assert.equal(result.code, 0, report);
    const ran = Number(/^Ran (\d+) tests? in/m.exec(result.err)?.[1]);
    assert.ok(ran >= 30, `ran ${ran} tests:\n${report}`);
    assert.match(result.err, /^OK$/m, `every test passed, none skipped:\n${report}`);
  });

  it('carries the error registry of @agentwire/protocol', { skip: found.skip }, async () => {
    const result = await run(python, [
      '-c',
      'import json, agentwire; print(json.dumps({k: list(v) for k, v in agentwire.ERROR_CODES.items()}))',
    ]);
    assert.equal(result.code, 0, result.err);
    const expected = Object.fromEntries(
      Object.entries(errorCodes).map(([code, e]) => [code, [e.status, e.close, e.message]]),
    );
    assert.deepEqual(JSON.parse(result.out), expected);
  });

  it('names streams as @agentwire/protocol does', { skip: found.skip }, async () => {
    const samples = [
      'task:42',
      'project:acme',
      'system',
      'task:',
      'Task:1',
      'taskx:1',
      taskStream('x'.repeat(200)),
    ];
    const ids = ['42', 'a.b~c', ''];
    const script = [
      'import json, sys',
      'from agentwire import streams as s',
      'samples, ids = json.loads(sys.argv[1])',
      'print(json.dumps({',
      '  "constants": [s.STREAM_NAME_PATTERN, s.MAX_STREAM_NAME_LENGTH, s.TASK_STREAM_PREFIX, s.PROJECT_STREAM_PREFIX, s.SYSTEM_STREAM],',
      '  "parsed": [[s.is_stream_name(x), s.task_id_of(x), s.project_id_of(x)] for x in samples],',
      '  "built": [[s.task_stream(i), s.project_stream(i)] for i in ids],',
      '}))',
    ].join('\n');
    const result = await run(python, ['-c', script, JSON.stringify([samples, ids])]);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(JSON.parse(result.out), {
      constants: [
        STREAM_NAME_PATTERN,
        MAX_STREAM_NAME_LENGTH,
        TASK_STREAM_PREFIX,
        PROJECT_STREAM_PREFIX,
        SYSTEM_STREAM,
      ],
      parsed: samples.map((x) => [isStreamName(x), taskIdOf(x) ?? null, projectIdOf(x) ?? null]),
      built: ids.map((i) => [taskStream(i), projectStream(i)]),
    });
  });

  it('refuses the same answer schemas as the TypeScript SDK', { skip: found.skip }, async () => {
    let deep: unknown = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { not: deep };
    const schemas: unknown[] = [
      { type: 'string' },
      { type: ['string', 'null'] },
      { type: 'str' },
      { type: [] },
      { $ref: '#/defs/x' },
      { if: { type: 'string' } },
      { title: 't', description: 'd', examples: [1], default: 2, format: 'email', $comment: 'c' },
      { properties: { a: { $ref: 'x' } } },
      { properties: { 'a/b~c': { type: 'integer', dependentRequired: {} } } },
      { properties: [] },
      { items: { type: 'integer', minimum: 1, exclusiveMaximum: 10, multipleOf: 2 } },
      { items: { minimum: 'one' } },
      { allOf: [] },
      { anyOf: [{ type: 'string' }, { not: { const: 1 } }] },
      { oneOf: [true, false, { enum: 'x' }] },
      { minLength: -1 },
      { minLength: 1.5 },
      { maxItems: 2, minItems: 0, uniqueItems: true },
      { uniqueItems: 'yes' },
      { multipleOf: 0 },
      { pattern: '[' },
      { pattern: '^a+$' },
      { pattern: 7 },
      { required: ['a', 1] },
      { required: ['a'], additionalProperties: false, minProperties: 1, maxProperties: 3 },
      { additionalProperties: { type: 'number' } },
      'string',
      null,
      [],
      true,
      deep,
    ];
    const result = await run(python, [
      '-c',
      'import json, sys\nfrom agentwire.answer_schema import unsupported_schema\n' +
        'print(json.dumps([unsupported_schema(s) for s in json.loads(sys.argv[1])]))',
      JSON.stringify(schemas),
    ]);
    assert.equal(result.code, 0, result.err);
    const expected = schemas.map((s) => {
      const issue = unsupportedSchema(s);
      return issue ? [issue.path, issue.message] : null;
    });
    assert.deepEqual(JSON.parse(result.out), expected);
    assert.ok(expected.filter((e) => e === null).length >= 8, 'the corpus holds usable schemas too');
  });

  it("runs the README's example, and a watcher answers its question", { skip: found.skip }, async () => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
    const example = /```python\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.ok(example?.includes('agentwire.connect'), 'the README starts with a whole example');
    const dir = mkdtempSync(join(tmpdir(), 'agentwire-readme-'));
    try {
      const script = join(dir, 'my_agent.py');
      writeFileSync(script, example);
      const child = spawn(python, [script], {
        cwd: dir,
        env: { ...process.env, AGENTWIRE_URL: gw.url, AGENTWIRE_TOKEN: producerToken, PYTHONUNBUFFERED: '1' },
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      const stream = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const match = /agentwire tail (task:\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        void exited.then((code) => reject(new Error(`the example exited (${code}) early: ${out}${err}`)));
      });
      const question = await waitForEvent(stream, 'question:asked');
      const answered = await watcher('/v1/commands', {
        method: 'POST',
        body: JSON.stringify({
          type: 'answer',
          stream,
          questionId: question.data.questionId,
          answer: 'qdrant',
        }),
      });
      assert.equal(answered.status, 200, await answered.text());
      assert.equal(await exited, 0, err);
      assert.match(out, new RegExp(`published ${stream}: Go with qdrant\\.`));
      const { state } = (await (await watcher(`/v1/tasks/${taskIdOf(stream)!}`)).json()) as {
        state: {
          status: string;
          stage: string;
          toolOrder: string[];
          tools: Record<string, { result: unknown }>;
          questions: Record<string, { answer: unknown; by: string }>;
        };
      };
      assert.equal(state.status, 'completed');
      assert.equal(state.stage, 'write');
      assert.deepEqual(state.tools[state.toolOrder[0]!]!.result, ['pgvector', 'qdrant']);
      const asked = Object.values(state.questions)[0]!;
      assert.deepEqual([asked.answer, asked.by], ['qdrant', 'alice']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Long-polls a stream until an event of `type` arrives. */
  async function waitForEvent(stream: string, type: string): Promise<{ data: Record<string, unknown> }> {
    let after = 0;
    for (;;) {
      const res = await watcher(`/v1/streams/${encodeURIComponent(stream)}/poll?after=${after}&wait=10`);
      const body = (await res.json()) as {
        head: number;
        events: { seq: number; type: string; data: never }[];
      };
      const hit = body.events.find((e) => e.type === type);
      if (hit) return hit;
      after = body.events.at(-1)?.seq ?? body.head;
    }
  }
});
