import { randomUUID } from 'node:crypto';
import {
  parseGatewayFrame,
  PRODUCER_PATH,
  PRODUCER_PROTOCOL_VERSION,
  PRODUCER_SUBPROTOCOL,
  type Command,
  type DeliverOp,
  type GatewayOp,
  type ProducerOp,
} from '@agentwire/protocol';
import WebSocket from 'ws';
import type { WsProbe } from './ws-probe.js';

/** What a watcher got back for a command: its ack's result, or the typed error. */
export type Reply =
  { ok: true; result: unknown } | { ok: false; code: string; message: string; details?: unknown };

/**
 * A producer speaking the channel's wire format by hand, for tests of the gateway's side that must
 * not depend on the agent SDK (which has its own end-to-end tests).
 */
export class RawProducer {
  readonly ops: GatewayOp[] = [];
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const op = parseGatewayFrame(data.toString());
      this.ops.push(op);
      // Pings as the welcome asks, like any live producer; `terminate()` silences it.
      if (op.op === 'welcome') {
        this.heartbeat = setInterval(() => this.send({ op: 'ping' }), op.heartbeatMs);
        this.heartbeat.unref();
      }
      this.wake();
    });
    ws.on('close', (code) => {
      clearInterval(this.heartbeat);
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => {});
  }

  /**
   * Connects (with `credential` as a bearer token, if given) and, unless `hello` is false, says
   * hello and waits for the welcome.
   */
  static async open(
    gatewayUrl: string,
    hello: Partial<Extract<ProducerOp, { op: 'hello' }>> | false = {},
    credential?: string,
  ): Promise<RawProducer> {
    const ws = new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}${PRODUCER_PATH}`, PRODUCER_SUBPROTOCOL, {
      ...(credential !== undefined && { headers: { authorization: `Bearer ${credential}` } }),
    });
    const producer = new RawProducer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (hello !== false) {
      producer.send({ op: 'hello', version: PRODUCER_PROTOCOL_VERSION, producerId: randomUUID(), ...hello });
      await producer.until(() => producer.ops.some((o) => o.op === 'welcome'));
    }
    return producer;
  }

  send(op: ProducerOp | string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(typeof op === 'string' ? op : JSON.stringify(op));
  }

  /** Says hello and waits for whichever comes first: the welcome or a refusal (then the close). */
  async hello(hello: Partial<Extract<ProducerOp, { op: 'hello' }>>): Promise<GatewayOp> {
    this.send({ op: 'hello', version: PRODUCER_PROTOCOL_VERSION, producerId: randomUUID(), ...hello });
    await this.until(() => this.ops.some((o) => o.op === 'welcome' || o.op === 'error'));
    const answer = this.ops.find((o) => o.op === 'welcome' || o.op === 'error')!;
    if (answer.op === 'error') await this.until(() => this.closeCode !== undefined);
    return answer;
  }

  get commands(): DeliverOp[] {
    return this.ops.filter((o): o is DeliverOp => o.op === 'command');
  }

  /** The next delivered command after the first `skip` ones. */
  async command(skip = 0, timeoutMs = 5_000): Promise<DeliverOp> {
    await this.until(() => this.commands.length > skip, timeoutMs);
    return this.commands[skip]!;
  }

  until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(
          new Error(
            `producer condition not met within ${timeoutMs} ms; ops: ${JSON.stringify(this.ops.slice(-3))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(check);
    });
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.ws.close();
  }

  /** Drops the connection without a close handshake, as a killed process would. */
  terminate(): void {
    clearInterval(this.heartbeat);
    this.ws.terminate();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Sends `command` on the native WebSocket and waits for the reply with its ref. */
export async function commandOverWs(probe: WsProbe, command: Command, timeoutMs = 15_000): Promise<Reply> {
  const ref = randomUUID();
  probe.send({ op: 'command', ref, command });
  await probe.until(
    () => probe.frames.some((f) => (f.op === 'ack' || f.op === 'error') && f.ref === ref),
    timeoutMs,
  );
  const reply = probe.frames.find((f) => (f.op === 'ack' || f.op === 'error') && f.ref === ref)!;
  if (reply.op === 'ack') return { ok: true, result: reply.result };
  if (reply.op !== 'error') throw new Error('unreachable');
  return { ok: false, code: reply.code, message: reply.message, details: reply.details };
}

/** `POST /v1/commands`, answered like the WebSocket's ack/error. */
export async function commandOverHttp(gatewayUrl: string, command: Command): Promise<Reply> {
  const res = await fetch(`${gatewayUrl}/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...command, ref: 'http' }),
  });
  const body = (await res.json()) as {
    result?: unknown;
    error?: { code: string; message: string; details?: unknown };
  };
  if (res.ok) return { ok: true, result: body.result };
  return {
    ok: false,
    code: body.error?.code ?? 'internal',
    message: body.error?.message ?? '',
    details: body.error?.details,
  };
}
