// The conformance suite every subscriber transport runs (transport-suite.test.ts: WebSocket, SSE,
// long-polling; Socket.IO joins by adding one adapter there). Not exported from index.ts: it
// imports node:test, which has no place in the server at runtime.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  reduceTaskEvents,
  type AnyEnvelope,
  type AnyEventInput,
  type ErrorBody,
  type Since,
  type TaskState,
} from '@agentwire/protocol';
import type { GatewayOptions } from '../gateway-options.js';
import { createGateway, type Gateway } from '../gateway.js';

/** What a transport told its client when a subscription took effect. */
export interface SubscribedInfo {
  epoch: string;
  /** The stream's head when the subscription took effect. */
  seq: number;
  recovered: boolean;
  snapshot?: { seq: number; state: TaskState | null };
}

export interface OpenOptions {
  /** Ask for a late joiner's snapshot (only meaningful without `since`). */
  snapshot?: boolean;
}

/**
 * The uniform test client each transport adapter provides. It records everything verbatim (a
 * duplicate delivery must stay visible) and, like any correct client, resumes by itself from the
 * last seq it holds whenever its connection is lost, until `close()`.
 */
export interface TransportClient {
  /** Every event received, in arrival order, duplicates included. */
  readonly events: AnyEnvelope[];
  /** One entry per subscription that took effect (the first, and any that reported `recovered: false`). */
  readonly subscribed: SubscribedInfo[];
  /** Typed errors the transport reported. */
  readonly errors: ErrorBody[];
  /** How many times the client resumed after losing its connection; proves `kill()` bit. */
  readonly resumes: number;
  /** Resolves once `predicate` holds, re-checked whenever the client records something. */
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Drops the connection abruptly, as a network failure would; the client must resume on its own. */
  kill(): void;
  /** Stops for good. */
  close(): void | Promise<void>;
}

export interface TransportUnderTest {
  name: string;
  /** Starts subscribing to `stream` at `gatewayUrl` (`http://host:port`) from `since`, if given. */
  open(gatewayUrl: string, stream: string, since?: Since, options?: OpenOptions): Promise<TransportClient>;
  /** Extra gateway options a transport needs (a Socket.IO path, say). */
  gatewayOptions?: GatewayOptions;
}

/**
 * A base for adapters: the recording arrays and `until`. Call `changed()` after recording anything.
 */
export abstract class RecordingClient implements TransportClient {
  readonly events: AnyEnvelope[] = [];
  readonly subscribed: SubscribedInfo[] = [];
  readonly errors: ErrorBody[] = [];
  private resumeCount = 0;
  private waiters: (() => void)[] = [];

  abstract kill(): void;
  abstract close(): void | Promise<void>;

  get resumes(): number {
    return this.resumeCount;
  }

  /** Call when the connection was lost and the client is about to resume. */
  protected resuming(): void {
    this.resumeCount++;
    this.changed();
  }

  protected changed(): void {
    for (const w of [...this.waiters]) w();
  }

  until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        const last = this.events.at(-1)?.seq;
        reject(
          new Error(
            `condition not met within ${timeoutMs} ms: ${this.events.length} events (last seq ${last}), ` +
              `subscribed ${JSON.stringify(this.subscribed.map((s) => ({ ...s, snapshot: s.snapshot?.seq })))}, ` +
              `errors ${JSON.stringify(this.errors)}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }
}

const log = (i: number): AnyEventInput => ({
  type: 'log:entry',
  data: { level: 'info', message: `line ${i}` },
});
const logs = (from: number, count: number) => Array.from({ length: count }, (_, i) => log(from + i));
const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const seqs = (client: TransportClient) => client.events.map((e) => e.seq);
/** Snapshots travel as JSON: compare against the reducer's output after the same round trip. */
const normalized = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null));

/** A task history touching most of what the reducer folds: agents, tools, stages, progress, questions, logs, tokens. */
function richHistory(taskId: string): AnyEventInput[] {
  return [
    { type: 'task:start', data: { taskId, title: `Task ${taskId}`, stages: ['plan', 'build'] } },
    { type: 'agent:spawned', data: { agentId: 'a1', name: 'planner', model: 'm-1' } },
    { type: 'task:stage', data: { stage: 'plan' } },
    { type: 'tool:executing', data: { callId: 'c1', tool: 'search', agentId: 'a1', args: { q: 'x' } } },
    { type: 'tool:complete', data: { callId: 'c1', durationMs: 12, result: { hits: 3 } } },
    { type: 'agent:progress', data: { agentId: 'a1', status: 'thinking', percent: 40 } },
    { type: 'message:start', data: { messageId: 'm1', role: 'assistant', agentId: 'a1' } },
    { type: 'message:delta', data: { messageId: 'm1', delta: 'Hel' } },
    { type: 'message:delta', data: { messageId: 'm1', delta: 'lo' } },
    { type: 'question:asked', data: { questionId: 'q1', prompt: 'Proceed?', options: [{ value: 'yes' }] } },
    { type: 'tool:executing', data: { callId: 'c2', tool: 'write', agentId: 'a1' } },
    { type: 'task:progress', data: { percent: 60, message: 'halfway' } },
    log(1),
  ];
}

/** Registers the conformance tests for one transport. */
export function runTransportSuite(transport: TransportUnderTest): void {
  const { name } = transport;
  describe(`transport conformance: ${name}`, () => {
    let gw: Gateway;
    const clients: TransportClient[] = [];
    const open = async (stream: string, since?: Since, options?: OpenOptions) => {
      const client = await transport.open(gw.url, stream, since, options);
      clients.push(client);
      return client;
    };
    const subscribedTo = async (stream: string, since?: Since, options?: OpenOptions) => {
      const client = await open(stream, since, options);
      await client.until(() => client.subscribed.length > 0 || client.errors.length > 0);
      assert.deepEqual(client.errors, [], 'no error while subscribing');
      return client;
    };
    const stream = (label: string) => `task:${name}-${label}`;

    before(async () => {
      gw = await createGateway({ port: 0, logLevel: 'silent', ...transport.gatewayOptions });
    });
    after(async () => {
      for (const c of clients) await c.close();
      await gw.close();
    });

    it('delivers live events in publish order', async () => {
      const s = stream('order');
      const client = await subscribedTo(s);
      assert.equal(client.subscribed[0]!.recovered, true);
      assert.equal(client.subscribed[0]!.seq, 0);
      let next = 1;
      for (const size of [1, 3, 1, 10, 2, 50, 1]) {
        await gw.publish(s, logs(next, size));
        next += size;
      }
      await client.until(() => client.events.length >= next - 1);
      assert.deepEqual(seqs(client), range(1, next - 1));
      assert.deepEqual(
        client.events.map((e) => (e.data as { message: string }).message),
        range(1, next - 1).map((i) => `line ${i}`),
      );
      assert.ok(client.events.every((e) => e.stream === s && e.epoch === client.subscribed[0]!.epoch));
    });

    it('resumes from since with exactly the missed events, then the live tail', async () => {
      const s = stream('since');
      await gw.publish(s, logs(1, 10));
      const { epoch } = await gw.engine.head(s);
      const client = await subscribedTo(s, { epoch, seq: 4 });
      assert.equal(client.subscribed[0]!.recovered, true);
      await gw.publish(s, [log(11)]);
      await client.until(() => client.events.length >= 7);
      assert.deepEqual(seqs(client), range(5, 11));
    });

    it('resumes after kills with a producer publishing throughout: every event exactly once', async () => {
      const s = stream('kill');
      const total = 400;
      const client = await subscribedTo(s, { seq: 0 });
      let kills = 0;
      let receivedAtKill = 0;
      for (let i = 1; i <= total;) {
        const size = 1 + (i % 4);
        await gw.publish(s, logs(i, size));
        i += size;
        if (i % 80 < size) {
          // Only a client that is connected again (it received something since) can be killed again.
          await client.until(() => client.events.length > receivedAtKill);
          // Every other kill waits for the live tail; the others land wherever the client is.
          if (i % 160 < size) await client.until(() => (client.events.at(-1)?.seq ?? 0) >= i - 1);
          receivedAtKill = client.events.length;
          client.kill();
          kills++;
        }
      }
      // The last kill may land after the last event: make the resumed connection prove itself too.
      await client.until(() => client.resumes >= kills);
      await gw.publish(s, [log(total + 1)]);
      const { head } = await gw.engine.head(s);
      await client.until(() => (client.events.at(-1)?.seq ?? 0) >= head);
      assert.deepEqual(seqs(client), range(1, head), 'every event exactly once, in order');
      assert.equal(new Set(client.events.map((e) => e.id)).size, head, 'no event id repeated');
      assert.deepEqual(client.errors, []);
      assert.ok(kills >= 4, `${kills} kills`);
    });

    it('answers a stale epoch with recovered:false and a snapshot equal to the reducer', async () => {
      const s = stream('stale');
      await gw.publish(s, richHistory(`${name}-stale`).slice(0, 4));
      const client = await subscribedTo(s, { epoch: 'stale-epoch', seq: 2 });
      const sub = client.subscribed[0]!;
      assert.equal(sub.recovered, false);
      const history = await gw.engine.read(s, 0, 1000);
      assert.equal(sub.epoch, history.epoch);
      assert.equal(sub.snapshot?.seq, 4);
      assert.deepEqual(normalized(sub.snapshot?.state), normalized(reduceTaskEvents(history.events)));
      await gw.publish(s, [{ type: 'tool:complete', data: { callId: 'c1', durationMs: 5 } }]);
      await client.until(() => client.events.length >= 1);
      assert.deepEqual(seqs(client), [5], 'events continue right after the snapshot');
    });

    it('answers a since beyond the head with recovered:false and a snapshot', async () => {
      const s = stream('ahead');
      await gw.publish(s, richHistory(`${name}-ahead`).slice(0, 2));
      const { epoch } = await gw.engine.head(s);
      const client = await subscribedTo(s, { epoch, seq: 99 });
      assert.equal(client.subscribed[0]!.recovered, false);
      assert.equal(client.subscribed[0]!.snapshot?.seq, 2);
      await gw.publish(s, [log(3)]);
      await client.until(() => client.events.length >= 1);
      assert.deepEqual(seqs(client), [3]);
    });

    it('gives a late joiner a snapshot equal to the reducer over the whole history', async () => {
      const s = stream('late');
      const history = richHistory(`${name}-late`);
      await gw.publish(s, history.slice(0, 5));
      await gw.publish(s, history.slice(5));
      const client = await subscribedTo(s, undefined, { snapshot: true });
      const sub = client.subscribed[0]!;
      const all = await gw.engine.read(s, 0, 1000);
      assert.equal(sub.snapshot?.seq, history.length);
      assert.deepEqual(normalized(sub.snapshot?.state), normalized(reduceTaskEvents(all.events)));
      await gw.publish(s, [{ type: 'message:end', data: { messageId: 'm1' } }]);
      await client.until(() => client.events.length >= 1);
      assert.deepEqual(seqs(client), [history.length + 1]);
    });

    it('refuses bad stream names with a typed error', async () => {
      for (const bad of ['no spaces allowed', 'task:', `task:${'x'.repeat(200)}`, 'Task:upper']) {
        const client = await open(bad);
        await client.until(() => client.errors.length > 0);
        const [error] = client.errors;
        assert.equal(error?.code, 'invalid_stream', `${JSON.stringify(bad)}: ${JSON.stringify(error)}`);
        assert.equal(typeof error.message, 'string');
        assert.deepEqual(client.events, []);
        await client.close();
      }
    });

    it('refuses bad resume positions with invalid_since', async () => {
      const s = stream('bad-since');
      for (const bad of [{ seq: -1 }, { seq: 1.5 }, { epoch: 'e'.repeat(65), seq: 1 }]) {
        const client = await open(s, bad as Since);
        await client.until(() => client.errors.length > 0);
        assert.equal(client.errors[0]?.code, 'invalid_since', JSON.stringify(bad));
        await client.close();
      }
      // …and the gateway is none the worse for it.
      const client = await subscribedTo(s);
      await gw.publish(s, [log(1)]);
      await client.until(() => client.events.length >= 1);
      assert.deepEqual(seqs(client), [1]);
    });

    it('delivers everything to many concurrent clients of one stream', async () => {
      const s = stream('fan');
      const many = await Promise.all(Array.from({ length: 25 }, () => subscribedTo(s)));
      for (let i = 1; i <= 100; i += 5) await gw.publish(s, logs(i, 5));
      for (const client of many) {
        await client.until(() => client.events.length >= 100);
        assert.deepEqual(seqs(client), range(1, 100));
      }
    });
  });
}
