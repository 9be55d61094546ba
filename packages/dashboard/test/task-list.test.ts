/**
 * The live task list at scale, in a real browser: a gateway holding 10,000 tasks, the page showing
 * them (rendering only what is in view), a row changing when its task changes, the filters going
 * to the gateway, and the WebSocket never carrying more than the window. Then the project view:
 * its terminal over the project's stream, reached from the list. Every wait is for something on
 * the page; nothing asserts how long it took.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { taskStream, type AnyEventInput, type TaskStatus } from '@agentwire/protocol';
import type { Browser, Page } from 'playwright-core';
import type { Gateway } from '@agentwire/server';
import { launchBrowser, openPage, startGateway, unavailable, unexpected } from './harness.js';

const skip = unavailable();
if (skip) console.log(`# ${skip}`);

const TASKS = 10_000;
const TIMEOUT = 120_000;
const PROJECTS = ['atlas', 'borealis', 'cygnus', 'draco'];
/** Task i: started after task i-1, in project i % 4, ended as this says. */
const statusOf = (i: number): TaskStatus => (i % 10 === 0 ? 'failed' : i % 3 === 0 ? 'completed' : 'running');
const idOf = (i: number) => `t${String(i).padStart(5, '0')}`;

let browser: Browser;
let gw: Gateway;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  gw = await startGateway({ taskList: { intervalMs: 100 } });
  for (let i = 0; i < TASKS; i++) {
    const id = idOf(i);
    const events: AnyEventInput[] = [
      {
        type: 'task:start',
        data: {
          taskId: id,
          title: `${i % 97 === 0 ? 'Quarterly audit' : 'Routine job'} ${id}`,
          projectId: PROJECTS[i % 4],
        },
      },
    ];
    const status = statusOf(i);
    if (status === 'completed') events.push({ type: 'task:complete', data: {} });
    if (status === 'failed') events.push({ type: 'task:failed', data: { error: { message: 'no' } } });
    await gw.publish(taskStream(id), events);
  }
});

after(async () => {
  if (skip) return;
  await gw.close();
  await browser.close();
});

/** Every `tasks` frame the page's WebSocket receives. */
function recordTaskFrames(page: Page): { rows: number; frames: number; biggest: number } {
  const seen = { rows: 0, frames: 0, biggest: 0 };
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      const text = typeof payload === 'string' ? payload : payload.toString();
      if (!text.startsWith('{"op":"tasks"')) return;
      const op = JSON.parse(text) as { rows: unknown[] };
      seen.frames++;
      seen.rows += op.rows.length;
      seen.biggest = Math.max(seen.biggest, op.rows.length);
    }),
  );
  return seen;
}

const renderedRows = (page: Page) => page.locator('.task-list .vrow').count();
const rowIds = (page: Page) =>
  page
    .locator('.task-row[data-task-id]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task-id')!));
const total = (page: Page) => page.locator('[data-total]').getAttribute('data-total');

describe('the task list with 10,000 tasks, in Chromium', { skip }, () => {
  test(
    'shows the list, follows changes, filters on the gateway, and renders only what is in view',
    { timeout: TIMEOUT },
    async (t) => {
      const { page, errors, close } = await openPage(browser);
      const wire = recordTaskFrames(page);
      await page.goto(`${gw.url}/`);
      await page.locator(`[data-total="${TASKS}"]`).waitFor({ timeout: TIMEOUT });
      await page.locator(`.task-row[data-task-id="${idOf(TASKS - 1)}"]`).waitFor();
      const top = await rowIds(page);
      assert.equal(top[0], idOf(TASKS - 1), 'newest first');
      const rendered = await renderedRows(page);
      assert.ok(rendered > 5 && rendered < 60, `${rendered} rows in the DOM for ${TASKS} tasks`);

      // Scroll to the middle: the rows there come from the gateway, the DOM stays as small.
      await page.locator('.task-list').evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
      const middle = idOf(TASKS / 2 - 1);
      await page.locator(`.task-row[data-task-id="${middle}"]`).waitFor();
      assert.ok((await renderedRows(page)) < 60);
      assert.ok(!(await rowIds(page)).includes(idOf(TASKS - 1)), 'the top rows left the DOM');

      // A task in view changes status: its row follows, live.
      const running = (await page
        .locator('.task-row[data-status="running"]')
        .first()
        .getAttribute('data-task-id'))!;
      await gw.publish(taskStream(running), [
        { type: 'task:complete', data: { summary: 'done in the test' } },
      ]);
      await page.locator(`.task-row[data-task-id="${running}"][data-status="completed"]`).waitFor();

      // A burst of changes all over the list: the page keeps up, and only ever receives the window.
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < TASKS; i += 7) {
        writes.push(gw.publish(taskStream(idOf(i)), [{ type: 'task:progress', data: { percent: 42 } }]));
      }
      await Promise.all(writes);
      const touched = (await rowIds(page)).find((id) => Number(id.slice(1)) % 7 === 0);
      assert.ok(touched, 'a row in view was among the changed tasks');
      await page
        .locator(`.task-row[data-task-id="${touched}"] .percent`)
        .filter({ hasText: '42%' })
        .waitFor();

      // Filters: each one is the gateway's count, and every row shown passes it.
      const count = (pick: (i: number) => boolean) =>
        Array.from({ length: TASKS }, (_, i) => i).filter(pick).length;
      await page.getByLabel('Status').selectOption('failed');
      await page.locator(`[data-total="${count((i) => statusOf(i) === 'failed')}"]`).waitFor();
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('.task-row[data-task-id]')];
        return rows.length > 0 && rows.every((r) => r.getAttribute('data-status') === 'failed');
      });
      await page.getByLabel('Project').fill('cygnus');
      const failedCygnus = count((i) => statusOf(i) === 'failed' && i % 4 === 2);
      await page.locator(`[data-total="${failedCygnus}"]`).waitFor();
      assert.match(page.url(), /status=failed&project=cygnus/);
      await page.getByLabel('Status').selectOption('');
      await page.getByLabel('Search').fill('quarterly');
      const audits = count((i) => i % 97 === 0 && i % 4 === 2);
      await page.locator(`[data-total="${audits}"]`).waitFor();
      await page.waitForFunction(() =>
        [...document.querySelectorAll('.task-row[data-task-id] .task-title')].every((t) =>
          t.textContent!.startsWith('Quarterly audit'),
        ),
      );
      assert.equal(await total(page), String(audits));

      // Never the whole list: every frame holds at most one window, and all of them together far
      // less than the 10,000 rows a list without windows would have sent at the start alone.
      assert.ok(wire.frames > 0);
      assert.ok(wire.biggest <= 1000, `a frame with ${wire.biggest} rows`);
      assert.ok(wire.rows < TASKS / 2, `${wire.rows} rows received in ${wire.frames} frames`);
      t.diagnostic(
        `${rendered} rows in the DOM; ${wire.frames} task-list frames, ${wire.rows} rows in all, at most ${wire.biggest} in one`,
      );
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test(
    "a project view shows the project's tasks and its live terminal, linked from the list",
    { timeout: TIMEOUT },
    async () => {
      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/?project=draco`);
      await page.locator('.task-row[data-task-id] .project-link').first().waitFor();
      await page.locator('.task-row[data-task-id] .project-link').first().click();
      await page.waitForURL(/\/projects\/draco$/);
      await page.getByRole('heading', { name: /Project\s+draco/ }).waitFor();
      // The newest tasks of the project, and the project's stream in the terminal.
      await page.locator(`.project-tasks li[data-task-id="${idOf(TASKS - 1)}"]`).waitFor();
      await page.waitForFunction(
        () => Number(document.querySelector('.terminal')?.getAttribute('data-lines')) > 0,
      );

      // Two of the project's tasks, one after the other: the terminal shows both, each named.
      const a = idOf(TASKS - 1);
      const b = idOf(TASKS - 5);
      await gw.publish(taskStream(a), [
        { type: 'log:entry', data: { level: 'info', message: 'first from a' } },
      ]);
      await gw.publish(taskStream(b), [
        { type: 'log:entry', data: { level: 'warn', message: 'then from b' } },
      ]);
      const line = (text: string) => page.locator('.tline', { hasText: text });
      await line('then from b').waitFor();
      assert.equal(await line('first from a').locator('.t-task').textContent(), a);
      assert.equal(await line('then from b').locator('.t-task').textContent(), b);
      const seqs = await page
        .locator('.tline')
        .evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('data-seq'))));
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
        "in the project stream's order",
      );
      // Another project's task never shows here.
      await gw.publish(taskStream(idOf(TASKS - 2)), [
        { type: 'log:entry', data: { level: 'info', message: 'elsewhere' } },
      ]);
      await gw.publish(taskStream(a), [
        { type: 'log:entry', data: { level: 'info', message: 'last from a' } },
      ]);
      await line('last from a').waitFor();
      assert.equal(await line('elsewhere').count(), 0);

      // From a task's own view, its project links back here.
      await page.locator(`.project-tasks li[data-task-id="${a}"] .task-title`).click();
      await page.getByRole('link', { name: 'project draco' }).click();
      await page.waitForURL(/\/projects\/draco$/);
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );
});
