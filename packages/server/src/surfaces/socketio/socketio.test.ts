import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import type { AnyEnvelope } from '@agentwire/protocol';
import WebSocket from 'ws';
import { RecordingRouter } from '../../testing/recording-router.js';
import { SioProbe } from '../../testing/sio-probe.js';
import { createGateway, type Gateway } from '../../gateway.js';
import { WsProbe } from '../../testing/ws-probe.js';
import { parseSocketIoPath } from './socketio-paths.js';

/** Envelopes a native Socket.IO client received, `event` and `events` flattened. */
function envelopes(p: SioProbe): AnyEnvelope[] {
  return p.received.flatMap((r) =>
    r.event === 'event'
      ? [r.payload as AnyEnvelope]
      : r.event === 'events'
        ? (r.payload as { events: AnyEnvelope[] }).events
        : [],
  );
}

async function upgradeStatus(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => {});
  });
}

describe('Socket.IO transport', () => {
  let gw: Gateway;
  let aw: Producer;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    aw = connect({ url: gw.url });
  });
  after(async () => {
    await aw.close();
    await gw.close();
  });

  it('shares the port: Socket.IO on its paths, /v1/ws and seed 004 on ours, 404 for other upgrades', async () => {
    for (const path of [
      '/socket.io',
      '/mageagent/socket.io',
      '/progress/socket.io',
      '/dashboard/socket.io',
    ]) {
      const res = await fetch(`${gw.url}${path}/?EIO=4&transport=polling`);
      assert.equal(res.status, 200, path);
      assert.match(await res.text(), /^0\{"sid"/);
    }
    const native = await WsProbe.open(gw.wsUrl);
    assert.equal(native.frames[0]!.op, 'hello');
    native.close();
    const base = gw.url.replace(/^http/, 'ws');
    assert.equal(await upgradeStatus(`${base}/ws/admin/agent-swarm/p1`), 'open');
    assert.equal(await upgradeStatus(`${base}/socket.io/?EIO=4&transport=websocket`), 'open');
    assert.equal(await upgradeStatus(`${base}/elsewhere`), 404);
    assert.equal(await upgradeStatus(`${base}/socket.iox/?EIO=4&transport=websocket`), 404);
    // The client bundle is not served, and the API still answers next to Socket.IO.
    assert.notEqual((await fetch(`${gw.url}/socket.io/socket.io.js`)).status, 200);
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    // WebSocket-only clients skip the polling handshake.
    const direct = await SioProbe.open(gw.url, { transports: ['websocket'] });
    assert.equal(direct.socket.io.engine.transport.name, 'websocket');
    direct.close();
    assert.equal(typeof gw.stats().socketioConnections, 'number');
  });

  it('speaks the native protocol on /socket.io: acks shaped like the ops, event/events, seq-based resume', async () => {
    const stream = 'task:sio-native';
    const task = await aw.startTask({ taskId: 'sio-native', title: 'Native over Socket.IO' });
    for (let i = 0; i < 5; i++) await task.log('info', `line ${i}`);
    const { epoch } = await gw.engine.head(stream);

    const p = await SioProbe.open(gw.url, {});
    const sub = await p.socket.emitWithAck('subscribe', { stream, since: { epoch, seq: 3 } });
    assert.deepEqual(sub, { op: 'subscribed', stream, epoch, seq: 6, recovered: true });
    await p.until(() => envelopes(p).length === 3);
    await aw.publish(stream, [
      { type: 'log:entry', data: { level: 'info', message: 'burst a' } },
      { type: 'log:entry', data: { level: 'info', message: 'burst b' } },
      { type: 'log:entry', data: { level: 'info', message: 'burst c' } },
    ]);
    await p.until(() => envelopes(p).length === 6);
    assert.deepEqual(
      envelopes(p).map((e) => e.seq),
      [4, 5, 6, 7, 8, 9],
    );
    assert.ok(p.names().includes('events'), 'events committed together arrive as one events message');
    assert.equal(envelopes(p)[0]!.epoch, epoch);

    const again = await p.socket.emitWithAck('subscribe', { stream });
    assert.deepEqual(again, {
      op: 'error',
      code: 'already_subscribed',
      message: `Already subscribed to ${stream}.`,
    });
    const snap = await p.socket.emitWithAck('subscribe', { stream: 'task:sio-native-2', snapshot: true });
    assert.equal(snap.op, 'subscribed');
    assert.deepEqual(snap.snapshot, { seq: 0, state: null });
    assert.deepEqual(await p.socket.emitWithAck('unsubscribe', { stream }), { op: 'unsubscribed', stream });

    // A position from another epoch gets the snapshot, exactly as on the WebSocket.
    const q = await SioProbe.open(gw.url, {});
    const reset = await q.socket.emitWithAck('subscribe', { stream, since: { epoch: 'gone', seq: 2 } });
    assert.equal(reset.recovered, false);
    assert.equal(reset.snapshot.seq, 9);
    assert.equal(reset.snapshot.state.title, 'Native over Socket.IO');

    // Without an ack the outcome arrives as an event, as the native ops do.
    q.socket.emit('subscribe', { stream: 'task:sio-native-3' });
    assert.equal((await q.waitFor('subscribed')).stream, 'task:sio-native-3');
    p.close();
    q.close();
  });

  it('dispatches commands through gateway.commands and refuses bad messages with error ops', async () => {
    const router = new RecordingRouter();
    const previous = gw.commands;
    gw.commands = router;
    try {
      const p = await SioProbe.open(gw.url, {});
      const ack = await p.socket.emitWithAck('command', {
        type: 'cancel',
        stream: 'task:sio-cmd',
        reason: 'stop',
      });
      assert.deepEqual(ack, { op: 'ack', result: { accepted: 'cancel' } });
      assert.deepEqual(router.received[0]!.command, {
        type: 'cancel',
        stream: 'task:sio-cmd',
        reason: 'stop',
      });
      const replies = [
        await p.socket.emitWithAck('command', { type: 'launch' }),
        await p.socket.emitWithAck('subscribe', { stream: 'Not A Stream' }),
        await p.socket.emitWithAck('subscribe', { stream: 'task:x', since: { seq: -1 } }),
        await p.socket.emitWithAck('subscribe', [1, 2]),
        await p.socket.emitWithAck('unsubscribe', { stream: 'task:never' }),
        await p.socket.emitWithAck('ping', {}),
      ];
      assert.deepEqual(
        replies.map((r) => [r.op, r.code]),
        [
          ['error', 'invalid_message'],
          ['error', 'invalid_stream'],
          ['error', 'invalid_since'],
          ['error', 'invalid_message'],
          ['error', 'not_subscribed'],
          ['error', 'unknown_op'],
        ],
      );
      p.socket.emit('command', 'nonsense');
      const error = await p.waitFor('error');
      assert.deepEqual([error.op, error.code, error.event], ['error', 'invalid_message', 'command']);
      p.close();
    } finally {
      gw.commands = previous;
    }
  });

  it('takes its paths from configuration and refuses paths that would shadow the gateway', async () => {
    assert.deepEqual(parseSocketIoPath('/rt/socket.io/=progress'), {
      path: '/rt/socket.io',
      dialect: 'progress',
    });
    assert.deepEqual(parseSocketIoPath('socket.io=flask-dashboard'), {
      path: '/socket.io',
      dialect: 'flask-dashboard',
    });
    assert.throws(
      () => parseSocketIoPath('/x=nope'),
      /dialect one of native, mageagent, progress, flask-dashboard/,
    );
    assert.throws(() => parseSocketIoPath('/v1/socket.io=native'), /shadow/);
    assert.throws(() => parseSocketIoPath('/=native'), /Invalid Socket.IO path/);
    await assert.rejects(
      createGateway({
        port: 0,
        logLevel: 'silent',
        socketio: {
          paths: [
            { path: '/a', dialect: 'native' },
            { path: '/a/', dialect: 'progress' },
          ],
        },
      }),
      /configured twice/,
    );

    const custom = await createGateway({
      port: 0,
      logLevel: 'silent',
      socketio: { paths: [{ path: '/socket.io', dialect: 'progress' }] },
    });
    try {
      assert.equal((await fetch(`${custom.url}/socket.io/?EIO=4&transport=polling`)).status, 200);
      assert.equal((await fetch(`${custom.url}/mageagent/socket.io/?EIO=4&transport=polling`)).status, 404);
      // No dashboard path configured, so its status endpoint is not there either.
      assert.equal((await fetch(`${custom.url}/api/websocket/status`)).status, 404);
      // Seed 002's client on the default path, as its frontend is written.
      const p = await SioProbe.open(custom.url, { query: { requestId: 'cfg' } });
      p.socket.emit('rejoin');
      assert.equal((await p.waitFor('state')).requestId, 'cfg');
      p.close();
    } finally {
      await custom.close();
    }
  });
});
