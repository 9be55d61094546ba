/**
 * The message-text store behind useMessageText and useCurrentAnswer, against a real gateway: the text
 * grows with each delta, merged deltas and a late join give the same text, the current answer moves
 * to the next assistant message, only changes to that message notify, and the hooks hear them per frame.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from '@agentwire/client';
import { createGateway } from '@agentwire/server';
import { perFrame } from './next-frame.js';
import { acquire } from './shared.js';
import { waitUntil } from './testing/wait.js';
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

const until = (check: () => boolean, what: string) => waitUntil(check, what);

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
  assert.deepEqual(store.get(), { text: 'Because', messageId: 'a1', done: false, agentId: undefined });
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
  assert.deepEqual(store.get(), {
    text: 'Because it streams.',
    messageId: 'a1',
    done: true,
    agentId: undefined,
  });
  assert.equal(seen.at(-1), 'Because it streams.');
  assert.ok(seen.length >= 2, `the text was seen growing: ${JSON.stringify(seen)}`);

  // A named message; an unknown one is empty.
  assert.equal(messageTextStore(share.sub, 'q').get().text, 'Why?');
  assert.deepEqual(messageTextStore(share.sub, 'nope').get(), {
    text: '',
    messageId: undefined,
    done: false,
    agentId: undefined,
  });
  share.release();
});

test('deltas the gateway merged (fromSeq) arrive as one longer step with the same text', async () => {
  const stream = 'task:text-merged';
  const words = Array.from({ length: 30 }, (_, i) => `w${i} `);
  await gw.publish(stream, [
    { type: 'task:start', data: { taskId: 'text-merged', title: 'Merged' } },
    { type: 'agent:spawned', data: { agentId: 'w', name: 'writer' } },
    { type: 'message:start', data: { messageId: 'm', role: 'assistant', agentId: 'w' } },
  ]);
  for (const delta of words)
    await gw.publish(stream, [{ type: 'message:delta', data: { messageId: 'm', delta } }]);
  // A subscriber catching up from the start gets the stored deltas merged (hub/coalesce.ts).
  const sub = client.subscribe(stream, { since: { seq: 0 } });
  const merged: number[] = [];
  sub.onEvent((e) => {
    if (e.type === 'message:delta' && e.fromSeq !== undefined) merged.push(e.seq - e.fromSeq + 1);
  });
  const store = messageTextStore(sub);
  const seen = changes(store);
  await until(() => store.get().text === words.join(''), 'the merged text');
  assert.deepEqual(merged, [30], 'the thirty deltas came as one merged event');
  assert.deepEqual(seen, [words.join('')], 'one step, not thirty');
  assert.equal(store.get().agentId, 'w');
  assert.equal(sub.state?.eventCount, 3 + 30, 'the merged delta counts for every event it replaced');
  sub.close();
});

test('a late joiner mid-answer starts from the snapshot’s text so far and sees the rest appended', async () => {
  const stream = 'task:text-late';
  const first = Array.from({ length: 40 }, (_, i) => `a${i} `).join('');
  await gw.publish(stream, [
    { type: 'task:start', data: { taskId: 'text-late', title: 'Late' } },
    { type: 'message:start', data: { messageId: 'm1', role: 'assistant' } },
  ]);
  for (const word of first.split(/(?<= )/))
    await gw.publish(stream, [{ type: 'message:delta', data: { messageId: 'm1', delta: word } }]);
  const share = acquire(client, stream);
  await share.sub.ready;
  const store = messageTextStore(share.sub);
  assert.equal(store.get().text, first, 'the snapshot carries the text so far');
  await gw.publish(stream, [
    { type: 'message:delta', data: { messageId: 'm1', delta: 'end.' } },
    { type: 'message:end', data: { messageId: 'm1' } },
  ]);
  await until(() => store.get().done, 'the end of the first answer');
  assert.equal(store.get().text, `${first}end.`);
  share.release();
});

test('the current answer moves to the next assistant message; a user message does not displace it', async () => {
  const stream = 'task:text-current';
  await gw.publish(stream, [
    { type: 'task:start', data: { taskId: 'text-current', title: 'Current' } },
    { type: 'message:start', data: { messageId: 'a1', role: 'assistant' } },
    { type: 'message:delta', data: { messageId: 'a1', delta: 'First.' } },
    { type: 'message:end', data: { messageId: 'a1' } },
  ]);
  const share = acquire(client, stream);
  await share.sub.ready;
  const store = messageTextStore(share.sub);
  assert.deepEqual([store.get().messageId, store.get().text, store.get().done], ['a1', 'First.', true]);
  await gw.publish(stream, [{ type: 'chat:message', data: { messageId: 'u1', text: 'And then?' } }]);
  await until(() => share.sub.state?.messageOrder.includes('u1') === true, 'the user message');
  assert.equal(store.get().messageId, 'a1');
  await gw.publish(stream, [
    { type: 'message:start', data: { messageId: 'a2', role: 'assistant' } },
    { type: 'message:delta', data: { messageId: 'a2', delta: 'Then' } },
  ]);
  await until(() => store.get().messageId === 'a2', 'the second answer');
  assert.deepEqual([store.get().text, store.get().done], ['Then', false]);
  share.release();
});

test('the hooks hear a burst of changes once per frame, and nothing after they let go', async () => {
  let emit = () => {};
  const subscribe = perFrame((onChange) => {
    emit = onChange;
    return () => {
      emit = () => {};
    };
  });
  let calls = 0;
  const off = subscribe(() => calls++);
  // Forty deltas applied in one task (one WebSocket frame of a catch-up) ask for one render.
  for (let i = 0; i < 40; i++) emit();
  await waitUntil(() => calls > 0, 'the frame');
  assert.equal(calls, 1);
  emit();
  await waitUntil(() => calls > 1, 'the next frame');
  assert.equal(calls, 2);
  emit();
  off();
  const settled = perFrame((onChange) => {
    onChange();
    return () => {};
  });
  let later = 0;
  settled(() => later++);
  await waitUntil(() => later > 0, 'a frame after the unsubscribe');
  assert.equal(calls, 2, 'a frame scheduled before the unsubscribe does not call it');
});
