/**
 * The message-text store behind useMessageText, against a real gateway: the text grows with each
 * delta, a late joiner starts from the text so far, and only changes to that message notify.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from '@agentwire/client';
import { createGateway } from '@agentwire/server';
import { acquire } from './shared.js';
import { messageTextStore } from './use-message-text.js';

const gw = await createGateway({ engine: { kind: 'memory' }, port: 0, logLevel: 'silent' });
const client = createClient({ url: gw.url, reconnect: { minDelayMs: 5, maxDelayMs: 50 } });
after(async () => {
  await client.close();
  await gw.close();
});

function changes(store: ReturnType<typeof messageTextStore>) {
  const seen: string[] = [];
  store.subscribe(() => {
    const now = store.get().text;
    if (seen.at(-1) !== now) seen.push(now);
  });
  return seen;
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; !check(); i++) {
    if (i > 500) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('the newest assistant message’s text grows delta by delta; a late joiner starts from the text so far', async () => {
  const stream = 'task:text-1';
  await gw.publish(stream, [
    { type: 'task:start', data: { taskId: 'text-1', title: 'Answer' } },
    { type: 'chat:message', data: { messageId: 'q', text: 'Why?' } },
    { type: 'message:start', data: { messageId: 'a1', role: 'assistant' } },
    { type: 'message:delta', data: { messageId: 'a1', delta: 'Because' } },
  ]);
  const share = acquire(client, stream);
  await share.sub.ready;
  const store = messageTextStore(share.sub);
  assert.deepEqual(store.get(), { text: 'Because', messageId: 'a1', done: false });
  const seen = changes(store);

  const before = store.get();
  await gw.publish(stream, [{ type: 'log:entry', data: { level: 'info', message: 'unrelated' } }]);
  await until(() => share.sub.state?.logs.length === 1, 'the log entry');
  assert.equal(store.get(), before, 'another event keeps the snapshot’s identity: no re-render');

  for (const delta of [' it', ' streams', '.']) {
    await gw.publish(stream, [{ type: 'message:delta', data: { messageId: 'a1', delta } }]);
  }
  await gw.publish(stream, [{ type: 'message:end', data: { messageId: 'a1' } }]);
  await until(() => store.get().done, 'the end of the message');
  assert.deepEqual(store.get(), { text: 'Because it streams.', messageId: 'a1', done: true });
  assert.equal(seen.at(-1), 'Because it streams.');
  assert.ok(seen.length >= 2, `the text was seen growing: ${JSON.stringify(seen)}`);

  // A named message; an unknown one is empty.
  assert.equal(messageTextStore(share.sub, 'q').get().text, 'Why?');
  assert.deepEqual(messageTextStore(share.sub, 'nope').get(), {
    text: '',
    messageId: undefined,
    done: false,
  });
  share.release();
});
