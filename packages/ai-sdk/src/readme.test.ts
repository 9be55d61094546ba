import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient } from '@agentwire/client';
import { reduceTaskEvents, type AnyEnvelope } from '@agentwire/protocol';
import { MockLanguageModelV4 } from 'ai/test';
import { forecast } from './testing/example.js';
import { finish, startGateway, step, stored, text, toolCall } from './testing/support.js';

// The compiled test runs from dist; the package sits one level up.
const packageDir = fileURLToPath(new URL('..', import.meta.url));

test("the README's example is src/testing/example.ts, word for word", () => {
  const readme = readFileSync(`${packageDir}README.md`, 'utf8');
  const example = readFileSync(`${packageDir}src/testing/example.ts`, 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.equal(block, example);
});

test("the README's example runs a task a watcher sees, approves and sees complete", async () => {
  const gateway = await startGateway();
  const client = createClient({ url: gateway.url });
  try {
    // The example picks its own task id: find the task when its question is asked, and answer it.
    const answered = new Promise<string>((resolve) => {
      const off = gateway.engine.onAppend((stream, events: AnyEnvelope[]) => {
        const asked = events.find((e) => e.type === 'question:asked');
        if (!asked || asked.type !== 'question:asked') return;
        off();
        const sub = client.subscribe(stream, { since: { seq: 0 } });
        void sub.answer(asked.data.questionId, 'approve').then(() => resolve(stream));
      });
    });
    const model = new MockLanguageModelV4({
      modelId: 'mock',
      doStream: [
        step(toolCall('w-1', 'weather', { city: 'Paris' }), finish('tool-calls')),
        step(text('t1', 'Sunny, ', '21 °C.'), finish('stop')),
      ],
    });
    process.env.AGENTWIRE_URL = gateway.url;
    assert.equal(await forecast(model), 'Sunny, 21 °C.');
    const stream = await answered;
    const state = reduceTaskEvents(await stored(gateway, stream))!;
    assert.equal(state.title, 'Weather in Paris');
    assert.equal(state.status, 'completed');
    assert.deepEqual(state.tools['w-1']!.result, { city: 'Paris', sky: 'sunny', celsius: 21 });
    assert.equal(Object.values(state.questions)[0]!.answer, 'approve');
  } finally {
    await client.close();
    await gateway.close();
  }
});
