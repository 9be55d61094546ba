/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) against a real gateway:
 * the live task list, a task view filling in as a producer works, answering and cancelling from
 * the page, a gateway restart under an open terminal, and downloads matching the history API.
 * Every wait is for something to appear on the page; nothing asserts how long it took.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { connect, type Producer } from '@agentwire/agent';
import { startDemoWorkload, type DemoWorkload } from '@agentwire/cli/demo';
import type { AnyEnvelope } from '@agentwire/protocol';
import type { Gateway } from '@agentwire/server';
import { launchBrowser, openPage, startGateway, unavailable, unexpected } from './harness.js';

const skip = unavailable();
if (skip) console.log(`# ${skip}`);

let browser: Browser;
let gw: Gateway;
let producer: Producer;
let demo: DemoWorkload;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  gw = await startGateway();
  producer = connect({ publisher: gw });
  demo = startDemoWorkload(producer, { concurrency: 3, speed: 4 });
});

after(async () => {
  if (skip) return;
  await demo.stop();
  await producer.close();
  await gw.close();
  await browser.close();
});

const TIMEOUT = 60_000;
const rowIds = (page: Page) =>
  page
    .locator('.task-row[data-task-id]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task-id')!));

/** The task's whole history from the API, every page of it. */
async function history(base: string, stream: string): Promise<AnyEnvelope[]> {
  const out: AnyEnvelope[] = [];
  for (let after = 0; ;) {
    const res = await fetch(
      `${base}/v1/streams/${encodeURIComponent(stream)}/events?after=${after}&limit=1000`,
    );
    const page = (await res.json()) as { events: AnyEnvelope[] };
    if (page.events.length === 0) return out;
    out.push(...page.events);
    after = page.events[page.events.length - 1]!.seq;
  }
}

/** Whether watchers' commands reach an in-process producer in this build (the command work). */
function commandsLanded(task: object): boolean {
  return typeof (task as { ask?: unknown }).ask === 'function';
}

describe('dashboard in Chromium', { skip }, () => {
  test(
    'the task list fills, new tasks appear without a reload, and the filters narrow it',
    { timeout: TIMEOUT },
    async () => {
      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/`);
      await page.waitForFunction(() => document.querySelectorAll('.task-row[data-task-id]').length >= 3);
      const first = new Set(await rowIds(page));
      // The demo keeps starting tasks; one that was not there at first must show up by itself.
      await page.waitForFunction(
        (known) =>
          [...document.querySelectorAll('.task-row[data-task-id]')].some(
            (r) => !known.includes(r.getAttribute('data-task-id')!),
          ),
        [...first],
      );
      assert.equal(await page.locator('.badge').getAttribute('data-status'), 'websocket');

      await page.getByLabel('Status').selectOption('completed');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('.task-row[data-task-id]')];
        return rows.length > 0 && rows.every((r) => r.getAttribute('data-status') === 'completed');
      });
      assert.match(page.url(), /status=completed/);
      const project = await page
        .locator('.task-row[data-task-id]')
        .first()
        .locator('.task-row-meta .project-link')
        .textContent();
      await page.getByLabel('Project').fill(project!);
      await page.waitForFunction((p) => {
        const rows = [...document.querySelectorAll('.task-row[data-task-id]')];
        return (
          rows.length > 0 &&
          rows.every((r) => r.querySelector('.task-row-meta .project-link')?.textContent === p)
        );
      }, project);
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test(
    'a task view shows agents, tool bars, progress and the streamed message as they happen',
    { timeout: TIMEOUT },
    async () => {
      const task = await producer.startTask({
        title: 'Live view under test',
        projectId: 'ui-tests',
        stages: ['look', 'write'],
        estimatedMs: 60_000,
      });
      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/tasks/${task.id}`);
      await page.getByRole('heading', { name: 'Live view under test' }).waitFor();

      const scout = await task.spawnAgent({ name: 'scout', model: 'model-under-test', role: 'looks around' });
      const card = page.locator(`.agent-card[data-agent-id="${scout.id}"]`);
      await card.waitFor();
      assert.match((await card.textContent())!, /scout.*model-under-test/s);

      const call = await scout.startTool('web_search', { q: 'agentwire' });
      await page.locator(`.tool-bar.tool-running[data-call-id="${call.id}"]`).waitFor();
      await card.getByText('calling web_search').waitFor();
      await call.complete({ hits: 3 });
      await page.locator(`.tool-bar.tool-completed[data-call-id="${call.id}"]`).waitFor();

      const writer = await task.spawnAgent({ name: 'writer', parent: scout });
      const second = await writer.startTool('draft', {});
      await page.locator(`.lane[data-agent="${writer.id}"] .tool-bar[data-call-id="${second.id}"]`).waitFor();
      assert.equal(await page.locator('.lane').count(), 2, 'one lane per agent');

      await task.stage('write');
      await task.progress({ percent: 50, message: 'half way' });
      await page.locator('[aria-label="Task progress"][aria-valuenow="50"]').waitFor();
      await page.locator('.stage-current', { hasText: 'write' }).waitFor();

      await writer.streamMessage(['Findings: ', 'three ', 'hits.']);
      await page.locator('.message-text', { hasText: 'Findings: three hits.' }).waitFor();

      await second.complete();
      await writer.complete();
      await scout.complete();
      await task.complete({ ok: true }, { summary: 'All done under test.' });
      await page.locator('[data-task-status="completed"]').waitFor();
      await page.getByText('All done under test.').waitFor();
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test(
    'the live terminal downloads the same events as the history API, as JSON, CSV and TXT',
    { timeout: TIMEOUT },
    async () => {
      const task = await producer.startTask({ title: 'Download under test', projectId: 'ui-tests' });
      const agent = await task.spawnAgent({ name: 'logger' });
      for (let i = 0; i < 40; i++)
        await agent.log(i % 7 === 0 ? 'warn' : 'info', `line ${i}, with "quotes", commas`, { i });
      await agent.streamMessage(['a', 'b', 'c']);
      await task.complete();
      const events = await history(gw.url, task.stream);

      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/tasks/${task.id}/terminal`);
      await page.waitForFunction(
        (n) => document.querySelector('.terminal')?.getAttribute('data-lines') === String(n),
        events.length,
      );

      const download = async (format: string): Promise<string> => {
        const [file] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: format }).click(),
        ]);
        return readFile((await file.path())!, 'utf8');
      };
      const json = JSON.parse(await download('JSON')) as AnyEnvelope[];
      assert.deepEqual(json, events, 'JSON holds the events exactly as the history API returns them');

      const csv = (await download('CSV')).trimEnd().split('\r\n');
      assert.equal(csv[0], 'seq,time,type,level,agent,message');
      assert.deepEqual(
        csv.slice(1).map((row) => Number(row.split(',')[0])),
        events.map((e) => e.seq),
      );
      assert.ok(
        csv.some((row) => row.includes('"line 3, with ""quotes"", commas')),
        'CSV quoting',
      );

      const txt = (await download('TXT')).trimEnd().split('\n');
      assert.deepEqual(
        txt.map((line) => Number(/ #(\d+) /.exec(line)?.[1])),
        events.map((e) => e.seq),
      );

      // Filters narrow what is shown and what is downloaded; search matches text.
      await page.getByLabel('Level').selectOption('warn');
      await page.getByPlaceholder('Search').fill('line 14');
      await page.waitForFunction(() => document.querySelectorAll('.tline').length === 1);
      const warnOnly = JSON.parse(await download('JSON')) as AnyEnvelope[];
      assert.deepEqual(
        warnOnly.map((e) => e.seq),
        events
          .filter((e) => e.type === 'log:entry' && e.data.message.startsWith('line 14,'))
          .map((e) => e.seq),
      );
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test(
    'pause buffers new lines with a count, resume shows them; scrolling up stops auto-scroll',
    { timeout: TIMEOUT },
    async () => {
      const task = await producer.startTask({ title: 'Pause under test' });
      for (let i = 0; i < 200; i++) await task.log('info', `warm-up ${i}`);
      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/tasks/${task.id}/terminal`);
      await page.waitForFunction(
        () => document.querySelector('.terminal')?.getAttribute('data-lines') === '201',
      );
      // Following: scrolled to the bottom.
      const lines = page.locator('.terminal-lines');
      await page.waitForFunction(() => {
        const el = document.querySelector('.terminal-lines')!;
        return el.scrollHeight - el.scrollTop - el.clientHeight < 2;
      });

      await page.getByRole('button', { name: 'Pause' }).click();
      for (let i = 0; i < 5; i++) await task.log('info', `while paused ${i}`);
      await page.getByRole('button', { name: 'Resume (5 waiting)' }).waitFor();
      assert.equal(await page.locator('.terminal').getAttribute('data-lines'), '201');
      await page.getByRole('button', { name: /Resume/ }).click();
      await page.waitForFunction(
        () => document.querySelector('.terminal')?.getAttribute('data-lines') === '206',
      );

      await lines.evaluate((el) => (el.scrollTop = 0));
      await page.getByRole('button', { name: 'Jump to latest' }).waitFor();
      await task.log('info', 'after scrolling up');
      await page.waitForFunction(
        () => document.querySelector('.terminal')?.getAttribute('data-lines') === '207',
      );
      assert.equal(await lines.evaluate((el) => el.scrollTop), 0, 'the view stays where the user put it');
      await page.getByRole('button', { name: 'Jump to latest' }).click();
      await page.waitForFunction(() => {
        const el = document.querySelector('.terminal-lines')!;
        return el.scrollTop > 0 && el.scrollHeight - el.scrollTop - el.clientHeight < 2;
      });
      await task.complete();
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test(
    'keyboard only: open a task, switch tabs with the arrows, search with /, switch themes',
    { timeout: TIMEOUT },
    async () => {
      const task = await producer.startTask({ title: 'Keyboard under test' });
      await task.log('info', 'needle in the log');
      await task.log('info', 'hay');
      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/`);
      // React renders after the load event; a Tab pressed before the first render focuses nothing.
      await page.locator('a.skip').waitFor({ state: 'attached' });
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
      const link = page.locator(`.task-row[data-task-id="${task.id}"] .task-title`);
      // The live list may redraw the row between a focus and a key press (a list frame arriving);
      // the press then lands nowhere, so press again until the task opens.
      for (let attempt = 0; !page.url().includes(task.id); attempt++) {
        assert.ok(attempt < 5, 'Enter on the focused row opens the task');
        await link.press('Enter');
        await page.waitForURL(new RegExp(task.id), { timeout: 2_000 }).catch(() => undefined);
      }
      await page.getByRole('heading', { name: 'Keyboard under test' }).waitFor();
      await page.getByRole('tab', { name: 'Overview' }).focus();
      await page.keyboard.press('ArrowRight');
      await page.waitForURL(/\/terminal$/);
      await page.waitForFunction(() => document.activeElement?.id === 'tab-terminal');
      await page.waitForFunction(
        () => document.querySelector('.terminal')?.getAttribute('data-lines') === '3',
      );
      await page.keyboard.press('/');
      await page.keyboard.type('needle');
      await page.waitForFunction(() => document.querySelectorAll('.tline').length === 1);
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => document.querySelectorAll('.tline').length === 3);

      const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
      const before = await theme();
      await page.getByRole('button', { name: /Switch to (light|dark) theme/ }).focus();
      await page.keyboard.press('Enter');
      assert.notEqual(await theme(), before);
      await page.reload();
      await page.getByRole('tab', { name: 'Terminal' }).waitFor();
      assert.notEqual(await theme(), before, 'the choice survives a reload');
      await task.complete();
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test(
    'the terminal stays virtualized with 30,000 lines, searches them, and loads older ones from history',
    { timeout: 120_000 },
    async () => {
      const task = await producer.startTask({ title: 'Many lines under test' });
      const batch = (from: number, n: number) =>
        gw.publish(
          task.stream,
          Array.from({ length: n }, (_, i) => ({
            type: 'log:entry',
            data: { level: 'info', message: `bulk line ${from + i}` },
          })),
        );
      for (let i = 0; i < 5_000; i += 1_000) await batch(i, 1_000);
      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/tasks/${task.id}/terminal`);
      // Only the newest 2,000 lines of history load at first; the rest is a click away.
      await page.waitForFunction(
        () => document.querySelector('.terminal')?.getAttribute('data-lines') === '2000',
      );
      await page.getByRole('button', { name: 'Load older lines' }).click();
      await page.waitForFunction(
        () => document.querySelector('.terminal')?.getAttribute('data-lines') === '5001',
      );
      assert.equal(
        await page.getByRole('button', { name: 'Load older lines' }).count(),
        0,
        'all history in memory',
      );

      for (let i = 5_000; i < 30_000; i += 1_000) await batch(i, 1_000);
      await page.waitForFunction(
        () => document.querySelector('.terminal')?.getAttribute('data-lines') === '30001',
      );
      const rendered = await page.locator('.tline').count();
      assert.ok(rendered < 200, `only the rows in view are in the DOM (${rendered})`);
      assert.equal(await page.locator('.terminal').getAttribute('data-duplicates'), '0');
      await page.getByText('bulk line 29999', { exact: true }).waitFor();

      await page.getByPlaceholder('Search').fill('bulk line 1234');
      // 1234 and 12340..12349
      await page.waitForFunction(() => document.querySelectorAll('.tline').length === 11);
      await task.complete();
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test(
    'presence: a second page on the same task shows up as another watcher',
    { timeout: TIMEOUT },
    async () => {
      const task = await producer.startTask({ title: 'Presence under test' });
      const first = await openPage(browser);
      await first.page.goto(`${gw.url}/tasks/${task.id}`);
      await first.page.locator('.presence', { hasText: 'only you' }).waitFor();
      const second = await openPage(browser);
      await second.page.goto(`${gw.url}/tasks/${task.id}`);
      await first.page.locator('.presence', { hasText: 'you + 1 watching' }).waitFor();
      await second.close();
      await first.page.locator('.presence', { hasText: 'only you' }).waitFor();
      await task.complete();
      assert.deepEqual(unexpected(first.errors), []);
      await first.close();
    },
  );

  test(
    'an open question is answered through the form and the agent continues',
    { timeout: TIMEOUT },
    async (t) => {
      const task = await producer.startTask({ title: 'Question under test' });
      if (!commandsLanded(task)) {
        t.todo('needs task.ask() and command routing to producers (the command work), not in this build');
        await task.complete();
        return;
      }
      const agent = await task.spawnAgent({ name: 'asker' });
      const ask = (
        task as unknown as { ask: (p: string, o: object) => Promise<{ answer: unknown; timedOut: boolean }> }
      ).ask.bind(task);
      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/tasks/${task.id}`);
      await page.getByRole('heading', { name: 'Question under test' }).waitFor();
      const asked = ask('Which colour?', { options: ['red', 'blue'], timeout: 50_000, agent });
      await page.locator('.question-prompt', { hasText: 'Which colour?' }).waitFor();
      await page.getByLabel('blue').check();
      await page.getByRole('button', { name: 'Send answer' }).click();
      const result = await asked;
      assert.deepEqual(
        { answer: result.answer, timedOut: result.timedOut },
        { answer: 'blue', timedOut: false },
      );
      await page.locator('.question').waitFor({ state: 'detached' });
      // The agent goes on with the answer, and the page sees it.
      await agent.log('info', `going with ${String(result.answer)}`);
      await agent.complete();
      await task.complete();
      await page.locator('[data-task-status="completed"]').waitFor();
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test('a task is cancelled from the page and its agent stops', { timeout: TIMEOUT }, async (t) => {
    const task = await producer.startTask({ title: 'Cancel under test' });
    if (!commandsLanded(task)) {
      t.todo('needs cancel commands routed to producers (the command work), not in this build');
      await task.complete();
      return;
    }
    const agent = await task.spawnAgent({ name: 'worker' });
    const stopped = new Promise<unknown>((resolve) =>
      task.signal.addEventListener('abort', () => resolve(task.signal.reason), { once: true }),
    );
    const { page, errors, close } = await openPage(browser);
    await page.goto(`${gw.url}/tasks/${task.id}`);
    await page.locator(`.agent-card[data-agent-id="${agent.id}"]`).waitFor();
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.getByRole('button', { name: 'Yes, cancel' }).click();
    await stopped;
    assert.equal(task.signal.aborted, true, 'the producer saw the cancel');
    await page.locator('[data-task-status="cancelled"]').waitFor();
    await page.locator('.agent-card.agent-cancelled').waitFor();
    assert.deepEqual(unexpected(errors), []);
    await close();
  });
});
