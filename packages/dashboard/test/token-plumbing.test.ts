/**
 * The dashboard's admin token, after the link that brought it: never again in a URL (WebSocket,
 * SSE, long-polling, commands and API calls carry it in the `auth` op and headers, where access
 * logs and proxies do not keep it), and every tab opened from the link connects, however many.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { mintToken, type Gateway } from '@agentwire/server';
import { launchBrowser, openPage, startGateway, unavailable, unexpected } from './harness.js';

const skip = unavailable();
const secret = 'a-test-secret-that-is-long-enough-for-hs256';
let browser: Browser;
let gw: Gateway;
let link: string;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  gw = await startGateway({ auth: { secret } });
  await gw.publish('task:plumbing', [
    { type: 'task:start', data: { taskId: 'plumbing', title: 'Token plumbing' } },
  ]);
  // The link as `agentwire serve` prints it (security-options.ts): an admin token, not capped.
  const token = await mintToken(secret, { sub: 'dashboard-admin', role: 'admin', uncapped: true }, 600);
  link = `${gw.url}/tasks/plumbing?token=${token}`;
});
after(async () => {
  if (skip) return;
  await browser.close();
  await gw.close();
});

/** Every URL the page asks for after it loaded: requests, and WebSocket handshakes. */
function recordUrls(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  return urls;
}

for (const transport of ['websocket', 'sse', 'polling'] as const) {
  test(
    `over ${transport}: no request after the link carries the token in its URL`,
    { skip, timeout: 60_000 },
    async () => {
      const { page, errors, close } = await openPage(browser);
      const urls = recordUrls(page);
      await page.goto(`${link}&transport=${transport}`);
      await page.locator(`.badge[data-status="${transport}"]`).waitFor();
      await page.getByRole('heading', { name: 'Token plumbing' }).waitFor();
      await gw.publish('task:plumbing', [
        { type: 'log:entry', data: { level: 'info', message: `live over ${transport}` } },
      ]);
      await page.getByRole('tab', { name: 'Terminal' }).click();
      await page.locator('.tline', { hasText: `live over ${transport}` }).waitFor();
      const [first, ...rest] = urls;
      assert.match(first ?? '', /[?&]token=/, 'the link itself');
      assert.deepEqual(
        rest.filter((u) => /[?&]token=/.test(u)),
        [],
      );
      assert.ok(
        rest.some((u) =>
          transport === 'websocket'
            ? u.includes('/v1/ws')
            : u.includes(`/${transport === 'sse' ? 'sse' : 'poll'}`),
        ),
        `the ${transport} requests were seen: ${rest.join(' ')}`,
      );
      assert.deepEqual(unexpected(errors), []);
      await close();
    },
  );
}

test(
  'seven tabs opened from the link all connect (the per-user limit is 5)',
  { skip, timeout: 90_000 },
  async () => {
    const tabs: Awaited<ReturnType<typeof openPage>>[] = [];
    try {
      for (let i = 0; i < 7; i++) {
        const tab = await openPage(browser);
        tabs.push(tab);
        await tab.page.goto(link);
        await tab.page.locator('.badge[data-status="websocket"]').waitFor();
      }
      for (const tab of tabs) {
        assert.equal(await tab.page.locator('.badge[data-status="websocket"]').count(), 1);
        assert.deepEqual(unexpected(tab.errors), []);
      }
    } finally {
      for (const tab of tabs) await tab.close();
    }
  },
);
