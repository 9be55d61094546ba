/**
 * The README's example is `src/testing/children/readme-example.ts`, verbatim; this runs it as its own process
 * against a gateway and answers its question as a watcher would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@agentwire/client';
import { createGateway, type Gateway } from '@agentwire/server';
import { Watcher } from './testing/watcher.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
let gw: Gateway;
let client: Client;

before(async () => {
  gw = await createGateway({ port: 0, logLevel: 'silent', engine: { kind: 'memory' } });
  client = createClient({ url: gw.url });
});
after(async () => {
  await client.close();
  await gw.close();
});

it('the README’s example is src/testing/children/readme-example.ts, verbatim', () => {
  const readme = readFileSync(`${packageDir}/README.md`, 'utf8');
  const block = /## Example\n\n```ts\n([\s\S]*?)\n```/.exec(readme)?.[1];
  assert.ok(block, 'the README has an example block');
  assert.equal(
    block.trim(),
    readFileSync(`${packageDir}/src/testing/children/readme-example.ts`, 'utf8').trim(),
  );
});

it('the README’s example runs against a gateway: a watcher sees the graph and answers its question', async () => {
  const started = new Promise<string>((resolve) => {
    const off = gw.engine.onAppend((stream, events) => {
      if (events.some((e) => e.type === 'task:start')) {
        off();
        resolve(stream);
      }
    });
  });
  const child = spawn(process.execPath, [`${packageDir}/dist/testing/children/readme-example.js`], {
    env: { ...process.env, AGENTWIRE_URL: gw.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  const watcher = await Watcher.open(client, await started);
  try {
    await watcher.until((w) => w.of('question:asked').length === 1, 'the question');
    const asked = watcher.of('question:asked')[0]!.data;
    assert.equal(asked.prompt, 'Send the answer?');
    await watcher.sub.answer(asked.questionId, 'yes');
    assert.equal(await exited, 0, stderr);
    assert.equal(stdout, 'Sent.\n');

    await watcher.until((w) => w.state?.status === 'completed', 'task:complete');
    const s = watcher.state!;
    assert.deepEqual(
      s.agentOrder.map((id) => s.agents[id]!.name),
      ['planner', 'tools', 'writer', 'approve'],
    );
    const call = s.tools.call_1!;
    assert.deepEqual(
      [call.tool, call.args, call.status, call.result],
      ['add', { a: 2, b: 3 }, 'completed', '5'],
    );
    const reply = s.messageOrder.map((id) => s.messages[id]!).find((m) => m.role === 'assistant');
    assert.equal(reply?.text, '2 + 3 = 5.');
    assert.ok(watcher.of('message:delta').length > 1, 'the reply streamed token by token');
  } finally {
    watcher.close();
    child.kill();
  }
});
