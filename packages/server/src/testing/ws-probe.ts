import type { AnyEnvelope, ServerOp } from '@agentwire/protocol';
import { parseServerOp } from '@agentwire/protocol';
import WebSocket from 'ws';

/**
 * A bare native-protocol client for tests: opens a real socket, records every frame, and lets a
 * test wait for conditions. Deliberately independent of the client SDK so the server is tested
 * against the wire format itself.
 */
export class WsProbe {
  readonly frames: ServerOp[] = [];
  readonly events: AnyEnvelope[] = [];
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const op = parseServerOp(data.toString());
      this.frames.push(op);
      if (op.op === 'event') this.events.push(op.event);
      if (op.op === 'events') this.events.push(...op.events);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => {});
  }

  static async open(url: string): Promise<WsProbe> {
    const ws = new WebSocket(url);
    const probe = new WsProbe(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await probe.until(() => probe.frames.some((f) => f.op === 'hello'));
    return probe;
  }

  send(op: unknown): void {
    this.ws.send(typeof op === 'string' ? op : JSON.stringify(op));
  }

  /** Resolves when `predicate` holds, re-checked after every frame; rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(
          new Error(
            `condition not met within ${timeoutMs} ms; last frames: ${JSON.stringify(this.frames.slice(-3))}`,
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

  find<K extends ServerOp['op']>(op: K, match: (f: Extract<ServerOp, { op: K }>) => boolean = () => true) {
    return this.frames.find((f): f is Extract<ServerOp, { op: K }> => f.op === op && match(f as never));
  }

  async waitFor<K extends ServerOp['op']>(
    op: K,
    match: (f: Extract<ServerOp, { op: K }>) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<Extract<ServerOp, { op: K }>> {
    await this.until(() => this.find(op, match) !== undefined, timeoutMs);
    return this.find(op, match)!;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
