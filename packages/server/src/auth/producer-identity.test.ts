import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  errorCodes,
  parseGatewayFrame,
  PRODUCER_PROTOCOL_VERSION,
  type GatewayOp,
  type ProducerPortConnection,
} from '@agentwire/protocol';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { Gateway } from '../gateway.js';
import { commandOverWs, RawProducer } from '../testing/producers.js';
import { requireService } from '../testing/services.js';
import { waitUntil } from '../testing/wait.js';
import { WsProbe } from '../testing/ws-probe.js';
import { B, cast, PRODUCER_KEY, secureGateway, token } from '../testing/auth-kit.js';

/**
 * A `producerId` belongs to the credential that first claimed it (its subject and scope), on every
 * producer path: a hello from another credential is refused with `producer_id_taken`, and the
 * rightful producer keeps its connection, its tasks and its unacknowledged commands.
 */
const producerClaims = { sub: 'producer-b', scope: ['publish'], projects: [B.project] };
const producerB = () => token(producerClaims);

describe('a producer id is bound to the credential that claimed it', () => {
  let gw: Gateway;
  let admin: WsProbe;
  before(async () => {
    gw = await secureGateway({ producers: { heartbeatMs: 200, orphanAfterMs: 5_000 } });
    admin = await WsProbe.open(`${gw.wsUrl}?token=${(await cast()).admin}`);
  });
  after(async () => {
    admin.close();
    await gw.close();
  });

  it("refuses another project's credential, which gets none of the rightful producer's commands", async () => {
    const rightful = await RawProducer.open(
      gw.url,
      { producerId: 'p-beta', streams: [B.task] },
      await producerB(),
    );
    const pending = commandOverWs(admin, { type: 'message', stream: B.task, text: 'beta-secret plan' });
    const delivered = await rightful.command();

    const attacker = await RawProducer.open(
      gw.url,
      false,
      await token({ sub: 'producer-a', scope: ['publish'], projects: ['alpha'] }),
    );
    const answer = await attacker.hello({ producerId: 'p-beta' });
    assert.equal(answer.op === 'error' && answer.code, 'producer_id_taken');
    assert.ok(!attacker.ops.some((o) => o.op === 'welcome' || o.op === 'command'));
    assert.ok(!JSON.stringify(attacker.ops).includes('beta-secret'));
    assert.equal(attacker.closeCode, errorCodes.producer_id_taken.close);

    // The rightful producer was not replaced, and its command (and the next one) still reach it.
    assert.equal(rightful.closeCode, undefined);
    rightful.send({ op: 'ack', id: delivered.id });
    assert.equal((await pending).ok, true);
    const cancel = commandOverWs(admin, { type: 'message', stream: B.task, text: 'still yours' });
    const next = await rightful.command(1);
    rightful.send({ op: 'ack', id: next.id });
    assert.equal((await cancel).ok, true);
    rightful.close();
  });

  it('refuses the same subject with another scope, and an API key that may publish anywhere', async () => {
    const rightful = await RawProducer.open(gw.url, { producerId: 'p-beta-2' }, await producerB());
    for (const credential of [
      await token({ sub: 'producer-b', scope: ['publish'], projects: [B.project, 'alpha'] }),
      PRODUCER_KEY,
    ]) {
      const other = await RawProducer.open(gw.url, false, credential);
      const answer = await other.hello({ producerId: 'p-beta-2' });
      assert.equal(answer.op === 'error' && answer.code, 'producer_id_taken');
    }
    assert.equal(rightful.closeCode, undefined);
    rightful.close();
  });

  it('lets the same credential come back, with a fresh token, to its queued commands', async () => {
    const first = await RawProducer.open(
      gw.url,
      { producerId: 'p-beta-3', streams: [B.task] },
      await producerB(),
    );
    first.terminate();
    await first.until(() => first.closeCode !== undefined);
    const pending = commandOverWs(admin, { type: 'message', stream: B.task, text: 'while you were away' });
    // Minted later: another token string, the same subject and scope.
    const again = await RawProducer.open(gw.url, false, await token(producerClaims, 900));
    const welcome = await again.hello({ producerId: 'p-beta-3', streams: [B.task] });
    assert.equal(welcome.op === 'welcome' && welcome.resumed, true);
    const delivered = await again.command();
    assert.equal(delivered.command.type, 'message');
    again.send({ op: 'ack', id: delivered.id });
    assert.equal((await pending).ok, true);
    again.close();
  });

  it('keeps in-process and network producers apart', async () => {
    const network = await RawProducer.open(gw.url, { producerId: 'p-net' }, await producerB());
    const ops: GatewayOp[] = [];
    let closedWith: number | undefined;
    const port: ProducerPortConnection = gw.connectProducer(
      (op) => ops.push(op),
      (code) => (closedWith = code),
    );
    port.send({ op: 'hello', version: PRODUCER_PROTOCOL_VERSION, producerId: 'p-net' });
    await waitUntil(() => closedWith !== undefined, 'the in-process hello to be refused');
    assert.deepEqual(
      ops.map((o) => (o.op === 'error' ? o.code : o.op)),
      ['producer_id_taken'],
    );
    assert.equal(network.closeCode, undefined);
    network.close();

    // And the other way round: an id taken in-process is not a network credential's.
    const inProcess: GatewayOp[] = [];
    const own = gw.connectProducer((op) => inProcess.push(op));
    own.send({ op: 'hello', version: PRODUCER_PROTOCOL_VERSION, producerId: 'p-local' });
    await waitUntil(() => inProcess.some((o) => o.op === 'welcome'), 'the in-process welcome');
    const intruder = await RawProducer.open(gw.url, false, PRODUCER_KEY);
    const answer = await intruder.hello({ producerId: 'p-local' });
    assert.equal(answer.op === 'error' && answer.code, 'producer_id_taken');
    own.close();
  });
});

const amqpUrl = process.env.AGENTWIRE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const skipAmqp = await requireService('RabbitMQ', amqpUrl);

describe(
  'a producer id is bound across the WebSocket and RabbitMQ producer channels',
  { skip: skipAmqp },
  () => {
    const tag = randomBytes(4).toString('hex');
    const names = {
      exchange: `agentwire-test.${tag}.events`,
      queue: `agentwire-test.${tag}.ingest`,
      commandExchange: `agentwire-test.${tag}.commands`,
      producerQueue: `agentwire-test.${tag}.producers`,
    };
    let gw: Gateway;
    let broker: ChannelModel;
    let channel: Channel;
    const seen: ConsumeMessage[] = [];

    before(async () => {
      gw = await secureGateway({
        amqp: { url: amqpUrl, ...names },
        producers: { heartbeatMs: 200, orphanAfterMs: 5_000 },
      });
      broker = await connect(amqpUrl);
      channel = await broker.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, names.commandExchange, 'producer.#');
      await channel.consume(queue, (msg) => msg && seen.push(msg), { noAck: true });
    });
    after(async () => {
      await gw?.close();
      for (const q of [names.producerQueue, names.queue, `${names.queue}.dead`])
        await channel.deleteQueue(q).catch(() => {});
      for (const e of [names.commandExchange, names.exchange, `${names.queue}.dlx`])
        await channel.deleteExchange(e).catch(() => {});
      await broker?.close();
    });

    /** Says hello through the broker as connection `connectionId`, and returns the gateway's answer. */
    async function amqpHello(producerId: string, connectionId: string): Promise<GatewayOp> {
      channel.sendToQueue(
        names.producerQueue,
        Buffer.from(JSON.stringify({ op: 'hello', version: PRODUCER_PROTOCOL_VERSION, producerId })),
        // RabbitMQ checks user-id against the connection's user, so it names who sent the hello.
        { correlationId: connectionId, userId: 'guest', contentType: 'application/json' },
      );
      const answer = () =>
        seen.find(
          (m) =>
            m.properties.correlationId === connectionId &&
            ['welcome', 'error'].includes(String(m.properties.type)),
        );
      await waitUntil(() => answer() !== undefined, `an answer to ${connectionId}`);
      return parseGatewayFrame(answer()!.content.toString());
    }

    it('refuses an AMQP hello for a WebSocket producer, which keeps its commands', async () => {
      const rightful = await RawProducer.open(
        gw.url,
        { producerId: 'p-ws', streams: [B.task] },
        await producerB(),
      );
      const answer = await amqpHello('p-ws', `c-${tag}-1`);
      assert.equal(answer.op === 'error' && answer.code, 'producer_id_taken');
      assert.equal(rightful.closeCode, undefined);
      const admin = await WsProbe.open(`${gw.wsUrl}?token=${(await cast()).admin}`);
      const pending = commandOverWs(admin, { type: 'message', stream: B.task, text: 'for the socket' });
      const delivered = await rightful.command();
      rightful.send({ op: 'ack', id: delivered.id });
      assert.equal((await pending).ok, true);
      assert.ok(!seen.some((m) => m.properties.type === 'command'), 'nothing went out on the broker');
      admin.close();
      rightful.close();
    });

    it('refuses a WebSocket hello for an AMQP producer', async () => {
      const welcome = await amqpHello('p-amqp', `c-${tag}-2`);
      assert.equal(welcome.op, 'welcome');
      const intruder = await RawProducer.open(gw.url, false, PRODUCER_KEY);
      const answer = await intruder.hello({ producerId: 'p-amqp' });
      assert.equal(answer.op === 'error' && answer.code, 'producer_id_taken');
    });
  },
);
