/**
 * Takes the README's screenshots: the main views in dark and light, on a laptop and a phone, of a
 * real gateway running the demo swarm. Not a test; run it after a build:
 *
 *   node packages/dashboard/dist/node/test/screenshots.js [outDir]   (default docs/screenshots)
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { connect } from '@agentwire/agent';
import { startDemoWorkload } from '@agentwire/cli/demo';
import type { TaskSummary } from '@agentwire/protocol';
import { launchBrowser, openPage, startGateway, unavailable } from './harness.js';

const out = resolve(process.argv[2] ?? 'docs/screenshots');
mkdirSync(out, { recursive: true });
const skip = unavailable();
if (skip) throw new Error(skip);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gw = await startGateway();
const producer = connect({ publisher: gw });
const demo = startDemoWorkload(producer, { concurrency: 4, speed: 1.5 });
const browser = await launchBrowser();

async function tasks(): Promise<TaskSummary[]> {
  const res = await fetch(`${gw.url}/v1/tasks?limit=50`);
  return ((await res.json()) as { tasks: TaskSummary[] }).tasks;
}

/** A running task well into its research: several agents, tool calls on the timeline. */
async function busyTask(): Promise<TaskSummary> {
  for (;;) {
    const t = (await tasks()).find((x) => x.status === 'running' && x.agents >= 4 && x.tools >= 5);
    if (t) return t;
    await sleep(250);
  }
}

try {
  // An agent's question, caught while it waits for an answer (the demo asks in every fourth task).
  {
    const { page, close } = await openPage(browser, {
      theme: 'dark',
      width: 1440,
      height: 900,
      reducedMotion: true,
    });
    await page.goto(`${gw.url}/`);
    await page.locator('.task-row:has(.pill-question) .task-title').first().click({ timeout: 120_000 });
    await page.locator('.question').waitFor();
    await sleep(500);
    await page.screenshot({ path: `${out}/question-dark.png` });
    await close();
  }

  // Let the list fill with finished, failed and running tasks.
  while ((await tasks()).filter((t) => t.status !== 'running').length < 8) await sleep(500);

  // A watcher in the background, so the system view has subscriptions and outbound events.
  const watcher = await openPage(browser);
  await watcher.page.goto(`${gw.url}/tasks/${(await busyTask()).taskId}`);

  const system: Record<string, Awaited<ReturnType<typeof openPage>>> = {};
  for (const theme of ['dark', 'light'] as const) {
    system[theme] = await openPage(browser, { theme, width: 1440, height: 900, reducedMotion: true });
    await system[theme].page.goto(`${gw.url}/system`);
  }

  for (const theme of ['dark', 'light'] as const) {
    const { page, close } = await openPage(browser, { theme, width: 1440, height: 900, reducedMotion: true });
    await page.goto(`${gw.url}/`);
    await page.waitForFunction(() => document.querySelectorAll('.task-row[data-task-id]').length >= 8);
    await page.screenshot({ path: `${out}/task-list-${theme}.png` });

    const task = await busyTask();
    await page.goto(`${gw.url}/tasks/${task.taskId}`);
    await page.locator('.tool-bar').nth(4).waitFor();
    await sleep(1_500);
    await page.setViewportSize({ width: 1440, height: 1000 });
    await page.screenshot({ path: `${out}/task-view-${theme}.png` });

    await page.goto(`${gw.url}/tasks/${(await busyTask()).taskId}/terminal`);
    await page.waitForFunction(
      () => Number(document.querySelector('.terminal')?.getAttribute('data-lines')) > 60,
    );
    // Streamed tokens are trace lines; at debug and above the terminal reads like a log.
    await page.getByLabel('Level').selectOption('debug');
    await sleep(1_000);
    await page.screenshot({ path: `${out}/terminal-${theme}.png` });
    await close();
  }

  // Forty seconds of samples on the system charts, with the watcher following busy tasks.
  for (let i = 0; i < 5; i++) {
    await watcher.page.goto(`${gw.url}/tasks/${(await busyTask()).taskId}/terminal`);
    await sleep(8_000);
  }
  for (const theme of ['dark', 'light'] as const) {
    await system[theme]!.page.screenshot({ path: `${out}/system-${theme}.png` });
    await system[theme]!.close();
  }

  const phone = await openPage(browser, { theme: 'dark', width: 390, height: 844, reducedMotion: true });
  await phone.page.goto(`${gw.url}/`);
  await phone.page.waitForFunction(() => document.querySelectorAll('.task-row[data-task-id]').length >= 5);
  await phone.page.screenshot({ path: `${out}/phone-task-list-dark.png` });
  await phone.page.goto(`${gw.url}/tasks/${(await busyTask()).taskId}`);
  await phone.page.locator('.agent-card').nth(2).waitFor();
  await sleep(1_000);
  await phone.page.screenshot({ path: `${out}/phone-task-view-dark.png` });
  await phone.close();
  await watcher.close();
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  await demo.stop();
  await producer.close();
  await gw.close();
}
