import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { reduceTaskEvents, type AnyEnvelope, type TaskState } from '@agentwire/protocol';
import { createClient, type ResetInfo } from './index.js';
import { envelope as ev, ScriptedServer, subscribed, until } from './testing/scripted-server.js';

/** A fresh server per test keeps connection numbering local. */
const cleanups = new Set<() => Promise<void>>();
after(() => Promise.all([...cleanups].map((done) => done())));

async function setup(reconnect = { minDelayMs: 5, maxDelayMs: 20 }) {
  const s = await ScriptedServer.start();
  const client = createClient({ url: s.url, reconnect });
  const done = async () => {
    cleanups.delete(done);
    await client.close();
    await s.close();
  };
  cleanups.add(done); // a failed assertion must not leave a reconnecting client holding the process
  return { server: s, client, done };
}

const seqs = (events: AnyEnvelope[]) => events.map((e) => `${e.epoch}:${e.seq}`);

test('subscribes before the connection is up and folds the snapshot plus events with the shared reducer', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('task:1');
  const conn = await server.connection(0);
  const op = await conn.next('subscribe');
  assert.deepEqual(op, { op: 'subscribe', stream: 'task:1', ref: op.ref, snapshot: true, coalesce: true });

  const history = [
    ev(1, 'task:start', { taskId: '1', title: 'Research' }),
    ev(2, 'agent:spawned', { agentId: 'a1', name: 'planner' }),
  ];
  const snapshot = reduceTaskEvents(history)!;
  const states: (TaskState | undefined)[] = [];
  sub.on('state', (s) => states.push(s));
  conn.send(subscribed(op, { epoch: 'e1', seq: 2, recovered: false, snapshot: { seq: 2, state: snapshot } }));
  assert.deepEqual(await sub.ready, { epoch: 'e1', seq: 2 });
  assert.deepEqual(sub.state, snapshot);

  const tools: string[] = [];
  sub.on('tool:executing', (data, e) => tools.push(`${data.tool}@${e.seq}`));
  const live = [
    ev(3, 'tool:executing', { callId: 'c1', tool: 'search', agentId: 'a1' }),
    ev(4, 'tool:complete', { callId: 'c1', durationMs: 5 }),
  ];
  conn.send({ op: 'events', stream: 'task:1', events: live });
  await until(() => sub.position?.seq === 4, 'seq 4');
  assert.deepEqual(tools, ['search@3']);
  assert.deepEqual(sub.state, reduceTaskEvents([...history, ...live]));
  assert.equal(states.length, 2, 'one state for the snapshot, one for the batch');
  await done();
});

test('drops duplicates within an epoch: every event exactly once, in order', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('project:p', {});
  const conn = await server.connection(0);
  const op = await conn.next('subscribe');
  assert.equal(op.snapshot, undefined, 'no snapshot by default for non-task streams');
  const seen: AnyEnvelope[] = [];
  sub.onEvent((e) => seen.push(e));
  const e = (n: number) => ev(n, 'log:entry', { level: 'info', message: `m${n}` }, { stream: 'project:p' });
  conn.send(subscribed(op, { epoch: 'e1', seq: 0, recovered: true }));
  conn.send({ op: 'event', event: e(1) });
  conn.send({ op: 'event', event: e(1) });
  conn.send({ op: 'events', stream: 'project:p', events: [e(1), e(2), e(3)] });
  conn.send({ op: 'event', event: e(2) });
  conn.send({ op: 'event', event: e(4) });
  await until(() => sub.position?.seq === 4, 'seq 4');
  assert.deepEqual(seqs(seen), ['e1:1', 'e1:2', 'e1:3', 'e1:4']);
  assert.equal(sub.state, undefined, 'no task state for a project stream');
  assert.deepEqual(
    conn.received.map((o) => o.op),
    ['subscribe'],
    'no resubscribe for duplicates',
  );
  await done();
});

test('a gap is not applied: the client resubscribes from its position and the gateway fills it', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('task:1', { snapshot: false });
  const conn = await server.connection(0);
  const first = await conn.next('subscribe');
  const seen: AnyEnvelope[] = [];
  sub.onEvent((e) => seen.push(e));
  const e = (n: number) => ev(n, 'task:progress', { percent: n * 10 });
  conn.send(subscribed(first, { epoch: 'e1', seq: 0, recovered: true }));
  conn.send({ op: 'event', event: e(1) });
  conn.send({ op: 'event', event: e(3) }); // 2 is missing
  conn.send({ op: 'event', event: e(4) }); // still in flight from the old subscription: ignored

  assert.deepEqual(await conn.next('unsubscribe'), { op: 'unsubscribe', stream: 'task:1' });
  const again = await conn.next('subscribe');
  assert.deepEqual(again.since, { epoch: 'e1', seq: 1 });
  assert.notEqual(again.ref, first.ref);
  conn.send({ op: 'unsubscribed', stream: 'task:1' });
  conn.send(subscribed(again, { epoch: 'e1', seq: 4, recovered: true }));
  conn.send({ op: 'events', stream: 'task:1', events: [e(2), e(3), e(4)] });
  conn.send({ op: 'event', event: e(5) });
  await until(() => sub.position?.seq === 5, 'seq 5');
  assert.deepEqual(seqs(seen), ['e1:1', 'e1:2', 'e1:3', 'e1:4', 'e1:5']);
  await done();
});

test('a merged delta (fromSeq) advances over every seq it stands for; one half overlapping is a gap', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('task:1', { since: { epoch: 'e1', seq: 0 } });
  const conn = await server.connection(0);
  const first = await conn.next('subscribe');
  const seen: AnyEnvelope[] = [];
  sub.onEvent((e) => seen.push(e));
  const delta = (n: number, text: string, fromSeq?: number) => ({
    ...ev(n, 'message:delta', { messageId: 'm', delta: text }),
    ...(fromSeq !== undefined && { fromSeq }),
  });
  conn.send(subscribed(first, { epoch: 'e1', seq: 0, recovered: true }));
  conn.send({
    op: 'events',
    stream: 'task:1',
    events: [
      ev(1, 'task:start', { taskId: '1', title: 'T' }),
      ev(2, 'message:start', { messageId: 'm', role: 'assistant' }),
      delta(5, 'abc', 3),
      delta(6, 'd'),
    ],
  });
  await until(() => sub.position?.seq === 6, 'seq 6');
  assert.equal(sub.state?.messages.m?.text, 'abcd');
  assert.equal(sub.state?.eventCount, 6, 'a merged delta counts as the events it replaced');
  // 5..8 overlaps the 5 and 6 already applied: it cannot be split, so the client asks again.
  conn.send({ op: 'event', event: delta(8, 'xxef', 5) });
  const again = await conn.next('subscribe');
  assert.deepEqual(again.since, { epoch: 'e1', seq: 6 });
  conn.send(subscribed(again, { epoch: 'e1', seq: 8, recovered: true }));
  conn.send({ op: 'event', event: delta(8, 'ef', 7) });
  await until(() => sub.position?.seq === 8, 'seq 8');
  assert.equal(sub.state?.messages.m?.text, 'abcdef');
  assert.deepEqual(seqs(seen), ['e1:1', 'e1:2', 'e1:5', 'e1:6', 'e1:8']);
  await done();
});

test('an event from another epoch mid-stream triggers a resubscribe, answered by a reset', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('task:1', { snapshot: false });
  const conn = await server.connection(0);
  const first = await conn.next('subscribe');
  conn.send(subscribed(first, { epoch: 'e1', seq: 7, recovered: true }));
  await sub.ready;
  conn.send({ op: 'event', event: ev(1, 'task:progress', { percent: 1 }, { epoch: 'e2' }) });
  await conn.next('unsubscribe');
  const again = await conn.next('subscribe');
  assert.deepEqual(again.since, { epoch: 'e1', seq: 7 });
  const resets: ResetInfo[] = [];
  sub.on('reset', (info) => resets.push(info));
  const state = reduceTaskEvents([ev(1, 'task:start', { taskId: '1', title: 'x' }, { epoch: 'e2' })])!;
  conn.send(subscribed(again, { epoch: 'e2', seq: 1, recovered: false, snapshot: { seq: 1, state } }));
  await until(() => resets.length === 1, 'reset');
  assert.deepEqual(resets[0], {
    from: { epoch: 'e1', seq: 7 },
    to: { epoch: 'e2', seq: 1 },
    epochChanged: true,
  });
  assert.deepEqual(sub.state, state);
  await done();
});

test('after a disconnect it resumes with since; recovered:false replaces state with the snapshot', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('task:1');
  const seen: AnyEnvelope[] = [];
  sub.onEvent((e) => seen.push(e));
  const resets: ResetInfo[] = [];
  sub.on('reset', (info) => resets.push(info));

  const c0 = await server.connection(0);
  const op0 = await c0.next('subscribe');
  const history = [ev(1, 'task:start', { taskId: '1', title: 'T' }), ev(2, 'task:stage', { stage: 'plan' })];
  c0.send(
    subscribed(op0, {
      epoch: 'e1',
      seq: 2,
      recovered: false,
      snapshot: { seq: 2, state: reduceTaskEvents(history)! },
    }),
  );
  const third = ev(3, 'task:progress', { percent: 30 });
  c0.send({ op: 'event', event: third });
  await until(() => sub.position?.seq === 3, 'seq 3');
  assert.equal(resets.length, 0, 'a first snapshot is not a reset');
  c0.close(1012, 'restart'); // shutting_down: reconnect

  // Same epoch, still retained: recovered, and the replayed overlap is dropped.
  const c1 = await server.connection(1);
  const op1 = await c1.next('subscribe');
  assert.deepEqual(op1.since, { epoch: 'e1', seq: 3 });
  c1.send(subscribed(op1, { epoch: 'e1', seq: 4, recovered: true }));
  c1.send({ op: 'events', stream: 'task:1', events: [third, ev(4, 'task:progress', { percent: 40 })] });
  await until(() => sub.position?.seq === 4, 'seq 4');
  assert.deepEqual(sub.state, reduceTaskEvents([...history, third, ev(4, 'task:progress', { percent: 40 })]));
  c1.terminate();

  // The gateway lost the history meanwhile: a new epoch and a snapshot.
  const c2 = await server.connection(2);
  const op2 = await c2.next('subscribe');
  assert.deepEqual(op2.since, { epoch: 'e1', seq: 4 });
  const fresh = reduceTaskEvents([ev(1, 'task:start', { taskId: '1', title: 'again' }, { epoch: 'e2' })])!;
  const states: (TaskState | undefined)[] = [];
  sub.on('state', (s) => states.push(s));
  c2.send(subscribed(op2, { epoch: 'e2', seq: 9, recovered: false, snapshot: { seq: 9, state: fresh } }));
  c2.send({ op: 'event', event: ev(10, 'task:progress', { percent: 99 }, { epoch: 'e2' }) });
  await until(() => sub.position?.seq === 10, 'e2 seq 10');
  assert.deepEqual(resets, [
    { from: { epoch: 'e1', seq: 4 }, to: { epoch: 'e2', seq: 9 }, epochChanged: true },
  ]);
  assert.deepEqual(states[0], fresh);
  assert.equal(sub.state?.title, 'again');
  assert.equal(sub.state?.progress?.percent, 99);
  assert.deepEqual(seqs(seen), ['e1:3', 'e1:4', 'e2:10']);
  await done();
});

test('too old in the same epoch is a reset without an epoch change', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('task:1', { since: { epoch: 'e1', seq: 3 } });
  const conn = await server.connection(0);
  const op = await conn.next('subscribe');
  assert.deepEqual(op.since, { epoch: 'e1', seq: 3 });
  const resets: ResetInfo[] = [];
  sub.on('reset', (info) => resets.push(info));
  conn.send(subscribed(op, { epoch: 'e1', seq: 500, recovered: false, snapshot: { seq: 500, state: null } }));
  await sub.ready;
  assert.deepEqual(resets, [
    { from: { epoch: 'e1', seq: 3 }, to: { epoch: 'e1', seq: 500 }, epochChanged: false },
  ]);
  assert.equal(sub.state, undefined);
  await done();
});

test('since {seq: 0} replays the whole history and builds state; since with a stored state continues it', async () => {
  const { server, client, done } = await setup();
  const all = [
    ev(1, 'task:start', { taskId: '1', title: 'T' }),
    ev(2, 'agent:spawned', { agentId: 'a', name: 'A' }),
    ev(3, 'agent:complete', { agentId: 'a' }),
  ];
  const whole = client.subscribe('task:1', { since: { seq: 0 } });
  const conn = await server.connection(0);
  const op = await conn.next('subscribe');
  conn.send(subscribed(op, { epoch: 'e1', seq: 3, recovered: true }));
  conn.send({ op: 'events', stream: 'task:1', events: all });
  await until(() => whole.position?.seq === 3, 'seq 3');
  assert.deepEqual(whole.position, { epoch: 'e1', seq: 3 });
  assert.deepEqual(whole.state, reduceTaskEvents(all));

  const stored = reduceTaskEvents(all.slice(0, 2))!;
  const resumed = client.subscribe('task:2', {
    since: { epoch: 'e1', seq: 2 },
    state: { ...stored, stream: 'task:2' },
  });
  const op2 = await conn.next('subscribe');
  assert.deepEqual(op2.since, { epoch: 'e1', seq: 2 });
  conn.send(subscribed(op2, { epoch: 'e1', seq: 3, recovered: true }));
  conn.send({ op: 'event', event: { ...all[2]!, stream: 'task:2' } });
  await until(() => resumed.position?.seq === 3, 'task:2 seq 3');
  assert.equal(resumed.state?.agents['a']?.status, 'completed');

  const partial = client.subscribe('task:3', { since: { epoch: 'e1', seq: 2 } });
  const op3 = await conn.next('subscribe');
  conn.send(subscribed(op3, { epoch: 'e1', seq: 3, recovered: true }));
  conn.send({ op: 'event', event: { ...all[2]!, stream: 'task:3' } });
  await until(() => partial.position?.seq === 3, 'task:3 seq 3');
  assert.equal(partial.state, undefined, 'no state is made up from a partial history');
  await done();
});

test('close() unsubscribes, rejects a pending ready and frees the stream name', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('task:1');
  assert.throws(() => client.subscribe('task:1'), { code: 'already_subscribed' });
  const conn = await server.connection(0);
  await conn.next('subscribe');
  sub.close();
  await assert.rejects(sub.ready, { code: 'not_subscribed' });
  assert.deepEqual(await conn.next('unsubscribe'), { op: 'unsubscribe', stream: 'task:1' });
  assert.equal(sub.closed, true);
  const again = client.subscribe('task:1');
  assert.equal(again.closed, false);
  assert.throws(() => client.subscribe('not a stream'), { code: 'invalid_stream' });
  assert.throws(() => client.subscribe('task:9', { since: { seq: -1 } }), { code: 'invalid_since' });
  await done();
});
