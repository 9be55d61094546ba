/**
 * The watch page in a real browser: every running task's current answer on one page, each tile
 * growing as its tokens arrive, tasks coming and going as they start and end, and a tile leading
 * to its task. Every wait is for something on the page; nothing asserts how long it took.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { taskStream, type AnyEventInput } from '@agentwire/protocol';
import type { Browser } from 'playwright-core';
import type { Gateway } from '@agentwire/server';
import { launchBrowser, openPage, startGateway, unavailable, unexpected } from './harness.js';

const skip = unavailable();
const TIMEOUT = 60_000;
let browser: Browser;
let gw: Gateway;

const start = (taskId: string, title: string): AnyEventInput => ({
  type: 'task:start',
  data: { taskId, title },
});
const delta = (messageId: string, text: string): AnyEventInput => ({
  type: 'message:delta',
  data: { messageId, delta: text },
});

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  gw = await startGateway({ taskList: { intervalMs: 100 } });
  await gw.publish(taskStream('w-answering'), [
    start('w-answering', 'Answering task'),
    { type: 'message:start', data: { messageId: 'a1', role: 'assistant' } },
    delta('a1', 'The first words '),
  ]);
  await gw.publish(taskStream('w-quiet'), [start('w-quiet', 'Quiet task')]);
  await gw.publish(taskStream('w-done'), [
    start('w-done', 'Finished task'),
    { type: 'task:complete', data: {} },
  ]);
});

after(async () => {
  if (skip) return;
  await browser.close();
  await gw.close();
});

test(
  'the watch page shows each running task’s answer growing, on one page',
  { skip, timeout: TIMEOUT },
  async () => {
    const { page, errors, close } = await openPage(browser);
    await page.goto(`${gw.url}/watch`);
    const tile = (id: string) => page.locator(`.watch-tile[data-task-id="${id}"]`);

    await tile('w-answering').locator('.watch-text', { hasText: 'The first words' }).waitFor();
    await tile('w-quiet').getByText('No answer yet.').waitFor();
    assert.equal(await tile('w-done').count(), 0, 'a finished task is not watched');

    await gw.publish(taskStream('w-answering'), [delta('a1', 'and then '), delta('a1', 'the rest.')]);
    await tile('w-answering')
      .locator('.watch-text', { hasText: 'The first words and then the rest.' })
      .waitFor();
    await gw.publish(taskStream('w-quiet'), [
      { type: 'message:start', data: { messageId: 'q1', role: 'assistant' } },
      delta('q1', 'Now speaking.'),
    ]);
    await tile('w-quiet').locator('.watch-text', { hasText: 'Now speaking.' }).waitFor();

    await gw.publish(taskStream('w-late'), [start('w-late', 'Late task')]);
    await tile('w-late').waitFor();
    await gw.publish(taskStream('w-answering'), [
      { type: 'message:end', data: { messageId: 'a1' } },
      { type: 'task:complete', data: {} },
    ]);
    await tile('w-answering').waitFor({ state: 'detached' });

    await tile('w-quiet').getByRole('link', { name: 'Quiet task' }).click();
    await page.getByRole('heading', { name: 'Quiet task' }).waitFor();
    await page.locator('.message-text', { hasText: 'Now speaking.' }).waitFor();

    assert.deepEqual(unexpected(errors), []);
    await close();
  },
);

test('the watch page says so when no task runs', { skip, timeout: TIMEOUT }, async () => {
  const { page, errors, close } = await openPage(browser);
  await page.goto(`${gw.url}/watch?project=no-such-project`);
  await page.getByText('No running tasks to watch.').waitFor();
  await page.getByRole('link', { name: 'Watch' }).and(page.locator('[aria-current="page"]')).waitFor();
  assert.deepEqual(unexpected(errors), []);
  await close();
});
