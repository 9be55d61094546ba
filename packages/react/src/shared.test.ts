/**
 * The hooks' shared subscriptions against a real gateway: one subscription per stream however many
 * users, kept for a moment after the last one leaves, closed after that.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from '@agentwire/client';
import { createGateway } from '@agentwire/server';
import { acquire } from './shared.js';
import { waitUntil } from './testing/wait.js';

const gw = await createGateway({ engine: { kind: 'memory' }, port: 0, logLevel: 'silent' });
const client = createClient({ url: gw.url, reconnect: { minDelayMs: 5, maxDelayMs: 50 } });
after(async () => {
  await client.close();
  await gw.close();
});

test('two users of a stream share one subscription and its state', async () => {
  await gw.publish('task:shared-1', [{ type: 'task:start', data: { taskId: 'shared-1', title: 'Shared' } }]);
  const a = acquire(client, 'task:shared-1');
  const b = acquire(client, 'task:shared-1');
  assert.equal(a.sub, b.sub);
  await a.sub.ready;
  assert.equal(a.sub.state?.title, 'Shared');
  a.release();
  a.release(); // a second release of the same share is a no-op, not a second user leaving
  assert.equal(b.sub.closed, false);
  b.release();
});

test('the last release closes the subscription after a linger; an acquire within it reuses it', async () => {
  const first = acquire(client, 'task:shared-2');
  await first.sub.ready;
  first.release();
  const again = acquire(client, 'task:shared-2');
  assert.equal(again.sub, first.sub, 'reacquired while lingering');
  again.release();
  await waitUntil(() => again.sub.closed, 'the linger to close the subscription');
  const fresh = acquire(client, 'task:shared-2');
  assert.notEqual(fresh.sub, again.sub);
  await fresh.sub.ready;
  fresh.release();
});
