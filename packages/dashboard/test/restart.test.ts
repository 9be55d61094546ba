/**
 * A gateway restart under an open terminal: the page shows that it is reconnecting, resumes from
 * the last event it applied, and ends with every event of the task exactly once, the same as the
 * history API, while the producer rode out the outage with retries.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentwireError, connect, type Publisher } from '@agentwire/agent';
import type { AnyEnvelope } from '@agentwire/protocol';
import type { Gateway } from '@agentwire/server';
import { launchBrowser, openPage, startGateway, unavailable, unexpected } from './harness.js';

const skip = unavailable();
const dir = mkdtempSync(join(tmpdir(), 'agentwire-dashboard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Publishes into whichever gateway is up; while none is, fails the way an unreachable one does. */
class Relay implements Publisher {
  gateway: Gateway | undefined;
  publish: Publisher['publish'] = (stream, events) => {
    if (!this.gateway) return Promise.reject(new AgentwireError('unavailable', 'The gateway is restarting.'));
    return this.gateway.publish(stream, events);
  };
}

test(
  'the page reconnects after a gateway restart and shows every log line once',
  { skip, timeout: 90_000 },
  async () => {
    const engine = { kind: 'sqlite' as const, path: join(dir, 'log.db') };
    let gw = await startGateway({ engine });
    const port = gw.port;
    const relay = new Relay();
    relay.gateway = gw;
    const producer = connect({
      publisher: relay,
      retry: { attempts: 1_000, baseDelayMs: 20, maxDelayMs: 200 },
    });
    const browser = await launchBrowser();
    try {
      const task = await producer.startTask({ title: 'Restart under test' });
      const agent = await task.spawnAgent({ name: 'steady' });
      let n = 0;
      let writing = true;
      // A producer that keeps logging through the restart; its retries carry it over the gap.
      const writer = (async () => {
        while (writing) {
          await agent.log('info', `tick ${n++}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();

      const { page, errors, close } = await openPage(browser);
      await page.goto(`${gw.url}/tasks/${task.id}/terminal`);
      await page.waitForFunction(
        () => Number(document.querySelector('.terminal')?.getAttribute('data-lines')) > 50,
      );

      relay.gateway = undefined;
      await gw.close();
      await page.locator('.badge[data-status="offline"], .badge[data-status="connecting"]').first().waitFor();
      const before = n;
      gw = await startGateway({ engine, port });
      relay.gateway = gw;
      await page.locator('.badge[data-status="websocket"]').waitFor();
      // Wait for lines written after the restart to arrive over the new connection.
      await page.waitForFunction(
        (count) => Number(document.querySelector('.terminal')?.getAttribute('data-lines')) > count,
        before + 20,
      );

      writing = false;
      await writer;
      await agent.complete();
      await task.complete();
      const events: AnyEnvelope[] = [];
      for (let after = 0; ;) {
        const res = await fetch(
          `${gw.url}/v1/streams/${encodeURIComponent(task.stream)}/events?after=${after}&limit=1000`,
        );
        const page = (await res.json()) as { events: AnyEnvelope[] };
        if (page.events.length === 0) break;
        events.push(...page.events);
        after = page.events[page.events.length - 1]!.seq;
      }
      await page.waitForFunction(
        (count) => document.querySelector('.terminal')?.getAttribute('data-lines') === String(count),
        events.length,
      );
      assert.equal(await page.locator('.terminal').getAttribute('data-duplicates'), '0');

      const [file] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'JSON' }).click(),
      ]);
      const shown = JSON.parse(await readFile((await file.path())!, 'utf8')) as AnyEnvelope[];
      assert.deepEqual(
        shown.map((e) => e.seq),
        events.map((_, i) => i + 1),
        'every seq once, in order, no gap',
      );
      assert.deepEqual(shown, events);
      const ticks = shown.flatMap((e) => (e.type === 'log:entry' ? [e.data.message] : []));
      assert.deepEqual(
        ticks,
        ticks.map((_, i) => `tick ${i}`),
        'every log line once, none missing',
      );
      // Chromium reports refused WebSocket handshakes (and any other request) while the gateway is down.
      const outage = [
        /WebSocket connection to .* failed/,
        /Failed to load resource: net::ERR_CONNECTION_REFUSED/,
      ];
      assert.deepEqual(unexpected(errors, outage), []);
      await close();
    } finally {
      await producer.close();
      await browser.close();
      await gw.close();
    }
  },
);
