import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { createGateway, type Gateway } from '../gateway.js';
import { waitUntil } from '../testing/wait.js';

/**
 * A producer announces itself with its first task or kind, and the gateway only listens once it
 * has welcomed it: whatever the producer claims or registers meanwhile must still reach the gateway.
 */
describe('a producer announced in a burst', () => {
  let gw: Gateway;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
  });
  after(async () => {
    await gw.close();
  });

  for (const via of ['in-process', 'WebSocket'] as const) {
    it(`${via}: every kind registered in a row and every task started together reach the gateway`, async () => {
      const aw: Producer = via === 'in-process' ? connect({ publisher: gw }) : connect({ url: gw.url });
      try {
        const worker = aw.worker({ capacity: 7 });
        for (const kind of ['alpha', 'beta', 'gamma']) worker.handle(kind, () => 'done');
        const tasks = await Promise.all(
          [1, 2, 3].map((i) => aw.startTask({ title: `Burst ${i}`, taskId: `${via}-burst-${i}` })),
        );
        await waitUntil(() => aw.commandStatus === 'connected', 'the command channel');
        await waitUntil(
          () => gw.producers.workers().some((w) => w.kinds.length === 3),
          `three kinds; the gateway has ${JSON.stringify(gw.producers.workers())}`,
        );
        const registered = gw.producers.workers()[0]!;
        assert.deepEqual([...registered.kinds].sort(), ['alpha', 'beta', 'gamma']);
        assert.equal(registered.capacity, 7);
        for (const task of tasks) {
          await gw.commands.dispatch({ type: 'cancel', stream: task.stream, reason: 'check' }, {});
          assert.equal(task.signal.aborted, true, `${task.stream}'s cancel reached its producer`);
        }
      } finally {
        await aw.close();
      }
    });
  }
});
