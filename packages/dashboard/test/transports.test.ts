/**
 * The dashboard over each of the client's transports: the badge names it, the task view fills in
 * live, and a cancel from the page reaches the producer (over POST /v1/commands without a socket).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { connect, type Producer } from '@agentwire/agent';
import type { Gateway } from '@agentwire/server';
import { launchBrowser, openPage, startGateway, unavailable, unexpected } from './harness.js';

const skip = unavailable();
let browser: Browser;
let gw: Gateway;
let producer: Producer;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  gw = await startGateway();
  producer = connect({ publisher: gw });
});
after(async () => {
  if (skip) return;
  await producer.close();
  await browser.close();
  await gw.close();
});

for (const [transport, label] of [
  ['websocket', 'WebSocket'],
  ['sse', 'SSE'],
  ['polling', 'Polling'],
] as const) {
  test(
    `over ${transport}: the badge says ${label}, events arrive live, cancel reaches the agent`,
    { skip, timeout: 60_000 },
    async () => {
      const task = await producer.startTask({ title: `Over ${transport}` });
      const agent = await task.spawnAgent({ name: 'walker' });
      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/tasks/${task.id}?transport=${transport}`);
      await page.locator(`.badge[data-status="${transport}"]`, { hasText: label }).waitFor();
      await page.locator(`.agent-card[data-agent-id="${agent.id}"]`).waitFor();

      const call = await agent.startTool('walk', { steps: 3 });
      await page.locator(`.tool-bar.tool-running[data-call-id="${call.id}"]`).waitFor();
      await call.complete();
      await page.locator(`.tool-bar.tool-completed[data-call-id="${call.id}"]`).waitFor();

      const stopped = new Promise((resolve) =>
        task.signal.addEventListener('abort', resolve, { once: true }),
      );
      await page.getByRole('button', { name: 'Cancel task' }).click();
      await page.getByRole('button', { name: 'Yes, cancel' }).click();
      await stopped;
      await page.locator('[data-task-status="cancelled"]').waitFor();
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );
}
