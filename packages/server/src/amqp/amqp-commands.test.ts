// Commands out through RabbitMQ, against the real broker: a producer whose command channel is AMQP
// gets a watcher's answer and cancel, sent over the native WebSocket.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AmqpChannel, connect as connectAgent, type ChannelStatus, type ChatMessage } from '@agentwire/agent';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { createGateway, type Gateway } from '../gateway.js';
import { TcpProxy } from '../testing/tcp-proxy.js';
import { commandOverWs } from '../testing/producers.js';
import { requireService } from '../testing/services.js';
import { WsProbe } from '../testing/ws-probe.js';
import { letTimePass, waitUntil } from '../testing/wait.js';

const url = process.env.AGENTWIRE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const skip = await requireService('RabbitMQ', url);
const redisUrl = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const skipCluster = skip ?? (await requireService('Redis', redisUrl));

describe('commands out through RabbitMQ', { skip }, () => {
  // Unique per run, so parallel runs and leftovers of a crashed one never meet; deleted after.
  const tag = randomBytes(4).toString('hex');
  const names = {
    exchange: `agentwire-test.${tag}.events`,
    queue: `agentwire-test.${tag}.ingest`,
    commandExchange: `agentwire-test.${tag}.commands`,
    producerQueue: `agentwire-test.${tag}.producers`,
  };
  let gw: Gateway;
  let broker: ChannelModel;
  let spy: Channel;
  /** Everything the gateway publishes to any producer, seen from a queue bound with `producer.#`. */
  const published: ConsumeMessage[] = [];

  before(async () => {
    gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      amqp: { url, ...names },
      producers: { heartbeatMs: 200, orphanAfterMs: 2_000, commandTimeoutMs: 5_000 },
    });
    broker = await connect(url);
    spy = await broker.createChannel();
    const { queue } = await spy.assertQueue('', { exclusive: true, autoDelete: true });
    await spy.bindQueue(queue, names.commandExchange, 'producer.#');
    await spy.consume(queue, (msg) => msg && published.push(msg), { noAck: true });
  });

  after(async () => {
    await gw?.close();
    for (const q of [names.producerQueue, names.queue, `${names.queue}.dead`])
      await spy.deleteQueue(q).catch(() => {});
    for (const e of [names.commandExchange, names.exchange, `${names.queue}.dlx`])
      await spy.deleteExchange(e).catch(() => {});
    await broker?.close();
  });

  it(
    'delivers an answer and a cancel to a producer connected through AMQP',
    { timeout: 20_000 },
    async () => {
      const statuses: ChannelStatus[] = [];
      const producerId = `amqp-producer-${tag}`;
      const aw = connectAgent({
        url: gw.url,
        producerId,
        commands: { amqp: url, exchange: names.commandExchange, queue: names.producerQueue },
        reconnect: { minDelayMs: 20, maxDelayMs: 200 },
        onCommandStatus: (status) => statuses.push(status),
      });
      const watcher = await WsProbe.open(gw.wsUrl);
      try {
        const task = await aw.startTask({ title: 'Runs until a watcher says otherwise' });
        watcher.send({ op: 'subscribe', stream: task.stream, since: { seq: 0 }, ref: 's' });
        await watcher.waitFor('subscribed');

        // A question, answered over the WebSocket, reaches task.ask through the command exchange.
        const asking = task.ask<string, string>('Which way?', {
          options: ['left', 'right'],
          timeout: 15_000,
        });
        await watcher.until(() => watcher.events.some((e) => e.type === 'question:asked'), 10_000);
        const questionId = (
          watcher.events.find((e) => e.type === 'question:asked')!.data as { questionId: string }
        ).questionId;
        const answered = await commandOverWs(watcher, {
          type: 'answer',
          stream: task.stream,
          questionId,
          answer: 'left',
        });
        assert.equal(answered.ok, true, JSON.stringify(answered));
        const result = await asking;
        assert.equal(result.answer, 'left');
        assert.equal(result.timedOut, false);

        // A cancel fires task.signal, and the gateway appends task:cancelled once the producer acks.
        const aborted = new Promise<void>((resolve) =>
          task.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        const cancelled = await commandOverWs(watcher, {
          type: 'cancel',
          stream: task.stream,
          reason: 'enough',
        });
        assert.equal(cancelled.ok, true, JSON.stringify(cancelled));
        await aborted;
        assert.equal(task.signal.aborted, true);
        await watcher.until(() => watcher.events.some((e) => e.type === 'task:cancelled'), 10_000);

        // It really went through RabbitMQ: persistent, routed to the owner, the command id as messageId.
        assert.ok(statuses.includes('connected'));
        const commands = published.filter((m) => m.properties.type === 'command');
        assert.equal(commands.length >= 2, true, `commands seen on the exchange: ${commands.length}`);
        for (const m of commands) {
          assert.equal(m.fields.routingKey, `producer.${producerId}`);
          assert.equal(m.properties.deliveryMode, 2);
          const op = JSON.parse(m.content.toString()) as { id: string; command: { type: string } };
          assert.equal(m.properties.messageId, op.id);
        }
        assert.deepEqual(
          commands.map(
            (m) => (JSON.parse(m.content.toString()) as { command: { type: string } }).command.type,
          ),
          ['answer', 'cancel'],
        );
      } finally {
        watcher.close();
        await aw.close();
      }
    },
  );

  it(
    'starts a task on a worker connected through AMQP and delivers its chat messages',
    { timeout: 20_000 },
    async () => {
      const aw = connectAgent({
        url: gw.url,
        commands: { amqp: url, exchange: names.commandExchange, queue: names.producerQueue },
        reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      });
      const heard: string[] = [];
      aw.handle<{ topic: string }>('research', async (task, input) => {
        for await (const message of task.messages()) {
          heard.push(message.text);
          if (message.text === 'wrap up') break;
        }
        return { topic: input.topic, heard: heard.length };
      });
      const watcher = await WsProbe.open(gw.wsUrl);
      try {
        await waitUntil(() => aw.commandStatus === 'connected', 'the worker to connect');
        const started = await commandOverWs(watcher, {
          type: 'start',
          kind: 'research',
          title: 'through the broker',
          input: { topic: 'tides' },
        });
        assert.equal(started.ok, true, JSON.stringify(started));
        const { stream } = started.ok ? (started.result as { stream: string }) : { stream: '' };
        for (const text of ['hello', 'wrap up']) {
          const sent = await commandOverWs(watcher, { type: 'message', stream, text });
          assert.equal(sent.ok, true, JSON.stringify(sent));
        }
        await waitUntil(() => heard.length === 2, 'both messages');
        assert.deepEqual(heard, ['hello', 'wrap up']);
        // The handler's return value completes the task.
        let types: string[] = [];
        await waitUntil(async () => {
          types = (await gw.engine.read(stream, 0, 100)).events.map((e) => e.type);
          return types.includes('task:complete');
        }, 'the task to complete');
        assert.deepEqual(types, ['task:start', 'chat:message', 'chat:message', 'task:complete']);
      } finally {
        watcher.close();
        await aw.close();
      }
    },
  );

  it(
    'resends commands sent while the producer was cut off from the broker, once each, even after a lost ack',
    { timeout: 20_000 },
    async () => {
      // The producer reaches RabbitMQ through a proxy the test breaks; the gateway's own link is intact.
      const proxy = await TcpProxy.start(url.replace(/^amqp:/, 'http:'));
      const through = url.replace(/@[^/]+/, `@${new URL(proxy.url).host}`);
      const received: ChatMessage[] = [];
      const aw = connectAgent({
        url: gw.url,
        commands: new AmqpChannel({
          url: through,
          exchange: names.commandExchange,
          queue: names.producerQueue,
          reconnect: { minDelayMs: 20, maxDelayMs: 100 },
        }),
      });
      const watcher = await WsProbe.open(gw.wsUrl);
      try {
        const task = await aw.startTask({ title: 'Flaky broker link' });
        task.onMessage((m) => void received.push(m));
        const stream = task.stream;
        await waitUntil(() => aw.commandStatus === 'connected', 'the channel to connect');

        // Lost ack: the producer gets the message, but nothing it sends reaches the broker.
        proxy.blackhole();
        const first = commandOverWs(watcher, { type: 'message', stream, text: 'first' });
        await waitUntil(() => received.length === 1, 'the first message');
        proxy.cut();
        await waitUntil(() => aw.commandStatus !== 'connected', 'the channel to notice');
        // While it is away, more commands queue at the gateway.
        const queued = ['second', 'third'].map((text) =>
          commandOverWs(watcher, { type: 'message', stream, text }),
        );
        await letTimePass(300);
        assert.equal(received.length, 1);
        proxy.restore();
        const replies = await Promise.all([first, ...queued]);
        assert.ok(
          replies.every((r) => r.ok),
          JSON.stringify(replies),
        );
        assert.deepEqual(
          received.map((m) => m.text),
          ['first', 'second', 'third'],
        );
      } finally {
        watcher.close();
        await aw.close();
        await proxy.close();
      }
    },
  );

  it(
    'a worker follows the producer queue to the next gateway when the one holding it goes',
    { timeout: 20_000 },
    async () => {
      // Its own names: the suite's gateway is already the active consumer of the suite's queue.
      const own = {
        exchange: `${names.exchange}.f`,
        queue: `${names.queue}.f`,
        commandExchange: `${names.commandExchange}.f`,
        producerQueue: `${names.producerQueue}.f`,
      };
      const options = {
        port: 0,
        logLevel: 'silent' as const,
        amqp: { url, ...own },
        producers: { heartbeatMs: 200, orphanAfterMs: 2_000, commandTimeoutMs: 5_000 },
      };
      const first = await createGateway(options);
      const second = await createGateway(options); // a standby: RabbitMQ gives it the queue later
      const statuses: ChannelStatus[] = [];
      const aw = connectAgent({
        url: second.url,
        commands: { amqp: url, exchange: own.commandExchange, queue: own.producerQueue },
        reconnect: { minDelayMs: 20, maxDelayMs: 200 },
        onCommandStatus: (status) => statuses.push(status),
      });
      const ran: string[] = [];
      aw.handle('echo', (task) => {
        ran.push(task.stream);
        return { ok: true };
      });
      try {
        await waitUntil(() => aw.commandStatus === 'connected', 'the worker to connect');
        assert.ok(
          first.producers.workers().some((w) => w.kinds.includes('echo')),
          'the first gateway holds it',
        );
        await first.close();
        // The standby becomes the queue's consumer; the producer hears no pong and says hello there.
        await waitUntil(
          () => second.producers.workers().some((w) => w.kinds.includes('echo')),
          'the worker on the second gateway',
        );
        assert.ok(statuses.includes('disconnected'), JSON.stringify(statuses));
        const watcher = await WsProbe.open(second.wsUrl);
        try {
          const started = await commandOverWs(watcher, {
            type: 'start',
            kind: 'echo',
            title: 'after failover',
          });
          assert.equal(started.ok, true, JSON.stringify(started));
          await waitUntil(() => ran.length === 1, 'the start to run');
        } finally {
          watcher.close();
        }
      } finally {
        await aw.close();
        await first.close();
        await second.close();
        for (const q of [own.producerQueue, own.queue, `${own.queue}.dead`])
          await spy.deleteQueue(q).catch(() => {});
        for (const e of [own.commandExchange, own.exchange, `${own.queue}.dlx`])
          await spy.deleteExchange(e).catch(() => {});
      }
    },
  );

  it(
    'a cancel sent to another node of a Redis cluster reaches the AMQP producer held by the first',
    { timeout: 20_000, skip: skipCluster },
    async () => {
      const own = {
        exchange: `${names.exchange}.c`,
        queue: `${names.queue}.c`,
        commandExchange: `${names.commandExchange}.c`,
        producerQueue: `${names.producerQueue}.c`,
      };
      const prefix = `agentwire-test:amqp-${tag}:`;
      const options = {
        port: 0,
        logLevel: 'silent' as const,
        engine: { kind: 'redis' as const, url: redisUrl, prefix },
        amqp: { url, ...own },
        producers: { heartbeatMs: 200, orphanAfterMs: 2_000, commandTimeoutMs: 5_000 },
      };
      // The first node consumes the producer queue, so it holds the producer.
      const holder = await createGateway(options);
      const other = await createGateway(options);
      const producerId = `amqp-clustered-${tag}`;
      const aw = connectAgent({
        url: other.url,
        producerId,
        commands: { amqp: url, exchange: own.commandExchange, queue: own.producerQueue },
        reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      });
      const watcher = await WsProbe.open(other.wsUrl);
      try {
        const task = await aw.startTask({ title: 'held by one node, cancelled on another' });
        await waitUntil(() => aw.commandStatus === 'connected', 'the channel to connect');
        assert.ok(holder.producers.find(producerId), 'the first node holds the producer');
        assert.equal(other.producers.find(producerId), undefined, 'the other node does not');
        const aborted = new Promise<void>((resolve) =>
          task.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        const cancelled = await commandOverWs(watcher, {
          type: 'cancel',
          stream: task.stream,
          reason: 'elsewhere',
        });
        assert.equal(cancelled.ok, true, JSON.stringify(cancelled));
        await aborted;
        const types = (await other.engine.read(task.stream, 0, 100)).events.map((e) => e.type);
        assert.deepEqual(types, ['task:start', 'task:cancelled']);
      } finally {
        watcher.close();
        await aw.close();
        await holder.close();
        await other.close();
        for (const q of [own.producerQueue, own.queue, `${own.queue}.dead`])
          await spy.deleteQueue(q).catch(() => {});
        for (const e of [own.commandExchange, own.exchange, `${own.queue}.dlx`])
          await spy.deleteExchange(e).catch(() => {});
        const redis = new Redis(redisUrl);
        try {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
            cursor = next;
            if (keys.length > 0) await redis.del(...keys);
          } while (cursor !== '0');
        } finally {
          redis.disconnect();
        }
      }
    },
  );
});
