import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { reduceTaskEvents } from '@agentwire/protocol';
import { history, setup } from './testing/support.js';

const run = promisify(execFile);
const pkg = fileURLToPath(new URL('..', import.meta.url));

test("the README's example runs as written and its run is a live task", async () => {
  const { gateway } = await setup();
  const readme = readFileSync(new URL('README.md', `file://${pkg}/`), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, 'the README has a TypeScript example');
  // The example is plain JavaScript apart from its fence, so node runs it as a module.
  const file = fileURLToPath(new URL('testing/readme-example.mjs', import.meta.url));
  writeFileSync(file, example);
  const { stdout } = await run(
    process.execPath,
    ['--import', fileURLToPath(new URL('testing/fake-provider.js', import.meta.url)), file],
    { cwd: pkg, env: { ...process.env, AGENTWIRE_URL: gateway.url, OPENAI_AGENTS_DISABLE_TRACING: '1' } },
  );
  assert.equal(stdout.trim(), 'It is sunny and 21 °C in Paris.');

  const list = (await (await fetch(`${gateway.url}/v1/tasks?limit=1`)).json()) as {
    tasks: { stream: string }[];
  };
  const state = reduceTaskEvents(await history(gateway, list.tasks[0]!.stream));
  assert.ok(state);
  assert.equal(state.status, 'completed');
  assert.equal(state.title, 'What is the weather in Paris?');
  assert.equal(state.tools['call_weather_1']?.status, 'completed');
  assert.equal(state.tools['call_weather_1']?.result, 'Sunny and 21 °C in Paris');
  assert.equal(Object.values(state.messages)[0]?.text, 'It is sunny and 21 °C in Paris.');
});
