/**
 * The dashboard on a gateway with auth on: the link the CLI prints carries `?token=`; the page
 * takes the token out of the address bar, keeps it for the tab, and uses it for the WebSocket and
 * every API call. Without one, the page says what is missing instead of showing an empty list.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { mintToken, type Gateway } from '@agentwire/server';
import { launchBrowser, openPage, startGateway, unavailable, unexpected } from './harness.js';

const skip = unavailable();
const secret = 'a-test-secret-that-is-long-enough-for-hs256';
let browser: Browser;
let gw: Gateway;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  // A short auth timeout: a socket without a token is closed after it, which the second test waits for.
  gw = await startGateway({ auth: { secret, authTimeoutMs: 1_000 } });
  await gw.publish('task:secured', [
    { type: 'task:start', data: { taskId: 'secured', title: 'Behind auth' } },
  ]);
});
after(async () => {
  if (skip) return;
  await browser.close();
  await gw.close();
});

test(
  'an admin link with ?token= opens the list, the live task and the system view',
  { skip, timeout: 60_000 },
  async () => {
    const token = await mintToken(secret, { sub: 'ops@example.com', role: 'admin' }, 600);
    const { page, errors, close } = await openPage(browser);
    await page.goto(`${gw.url}/?token=${token}`);
    await page.locator('.task-row[data-task-id="secured"]').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('token'), null, 'the token left the address bar');
    await page.locator('.badge[data-status="websocket"]').waitFor();

    await page.locator('.task-row[data-task-id="secured"] .task-title').click();
    await page.getByRole('heading', { name: 'Behind auth' }).waitFor();
    await gw.publish('task:secured', [{ type: 'log:entry', data: { level: 'info', message: 'seen live' } }]);
    await page.getByRole('tab', { name: 'Terminal' }).click();
    await page.locator('.tline', { hasText: 'seen live' }).waitFor();

    await page.getByRole('link', { name: 'System' }).click();
    await page.locator('.chart').first().waitFor();
    await page.waitForFunction(() =>
      /clients [1-9]/.test(document.querySelector('.chart-legend')?.textContent ?? ''),
    );
    // The figures come from /metrics, the series Prometheus scrapes.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-metric="websocket connections"] dd')?.textContent) >= 1,
    );
    assert.equal(await page.locator('.notice-bad').count(), 0);
    assert.deepEqual(unexpected(errors), []);
    await close();
  },
);

test('without a token the page explains that it needs one', { skip, timeout: 60_000 }, async () => {
  const { page, close } = await openPage(browser);
  await page.goto(`${gw.url}/`);
  await page.locator('.notice-bad', { hasText: 'token' }).waitFor();
  await page.locator('.badge[data-status="closed"]').waitFor();
  await close();
});
