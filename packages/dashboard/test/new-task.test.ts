/**
 * Starting a task from the dashboard: the "New task" form sends a `start` command, the demo's
 * worker runs its swarm on the prompt, and the page moves to the new task, which fills in live
 * until it completes; cancelling it from there stops it. A kind no worker takes says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { connect, type Producer } from '@agentwire/agent';
import { startDemoWorker, type DemoWorker } from '@agentwire/cli/demo';
import { mintToken, type Gateway } from '@agentwire/server';
import { launchBrowser, openPage, startGateway, unavailable, unexpected } from './harness.js';

const skip = unavailable();
const secret = 'a-test-secret-that-is-long-enough-for-hs256';
const TIMEOUT = 60_000;

let browser: Browser;
let gw: Gateway;
let producer: Producer;
let demo: DemoWorker;
let link: string;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  gw = await startGateway({ auth: { secret } });
  producer = connect({ publisher: gw });
  demo = startDemoWorker(producer, { speed: 2 });
  link = `${gw.url}/?token=${await mintToken(secret, { sub: 'ops@example.com', role: 'admin' }, 600)}`;
});

after(async () => {
  if (skip) return;
  await demo.stop();
  await producer.close();
  await gw.close();
  await browser.close();
});

describe('New task in Chromium', { skip }, () => {
  test(
    'the form starts a task on the prompt and opens it, live to the answer',
    { timeout: TIMEOUT },
    async () => {
      const { page, errors, close } = await openPage(browser);
      await page.goto(link);
      await page.getByRole('link', { name: 'New task' }).click();
      await page.getByRole('heading', { name: 'New task' }).waitFor();
      assert.equal(await page.getByLabel('Kind').inputValue(), 'agent', 'kind agent by default');
      const prompt = 'Find a quiet venue for a team offsite in Lisbon';
      await page.getByLabel('What should the agents do?').fill(prompt);
      await page.getByLabel('Project (optional)').fill('offsite');
      await page.getByRole('button', { name: 'Start task' }).click();

      await page.waitForURL(/\/tasks\/[^/]+$/);
      const taskId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
      await page.getByRole('heading', { name: prompt }).waitFor();
      await page.getByRole('article', { name: 'Agent planner' }).waitFor();
      await page.locator('.tool-bar').first().waitFor();
      await page.locator('[data-task-status="completed"]').waitFor({ timeout: 45_000 });
      await page
        .locator('.message-text', { hasText: `On "${prompt}"` })
        .first()
        .waitFor();

      const res = await fetch(`${gw.url}/v1/tasks/${taskId}`, {
        headers: { authorization: `Bearer ${new URL(link).searchParams.get('token')}` },
      });
      const { state } = (await res.json()) as { state: { kind: string; projectId: string; title: string } };
      assert.deepEqual([state.kind, state.projectId, state.title], ['agent', 'offsite', prompt]);
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );

  test('a started task can be cancelled from its view', { timeout: TIMEOUT }, async () => {
    const { page, errors, close } = await openPage(browser);
    await page.goto(link);
    await page.getByRole('link', { name: 'New task' }).click();
    await page.getByLabel('What should the agents do?').fill('Rewrite the billing service in a weekend');
    await page.getByLabel('Kind').fill('engineering');
    await page.getByRole('button', { name: 'Start task' }).click();
    await page.waitForURL(/\/tasks\/[^/]+$/);
    await page.getByRole('article', { name: 'Agent planner' }).waitFor();
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.getByRole('button', { name: 'Yes, cancel' }).click();
    await page.locator('[data-task-status="cancelled"]').waitFor();
    assert.deepEqual(unexpected(errors), []);
    await close();
  });

  test('a kind no worker takes is refused with no_worker, on the form', { timeout: TIMEOUT }, async () => {
    const { page, errors, close } = await openPage(browser);
    await page.goto(link);
    await page.getByRole('link', { name: 'New task' }).click();
    await page.getByLabel('What should the agents do?').fill('Write a sonnet');
    await page.getByLabel('Kind').fill('poetry');
    await page.getByRole('button', { name: 'Start task' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent())!, /kind "poetry".*no_worker/);
    assert.match(page.url(), /\/new$/, 'the form stays, with what was typed');
    assert.equal(await page.getByLabel('What should the agents do?').inputValue(), 'Write a sonnet');
    assert.deepEqual(unexpected(errors), []);
    await close();
  });
});
