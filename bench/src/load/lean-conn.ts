import { connect, type Socket } from 'node:net';
import type { Histogram } from '../hist.js';

/** The wire each server speaks; the load generator only knows enough of each to subscribe and count. */
export type Dialect = 'agentwire' | 'ws' | 'socketio' | 'nchan';

export interface ConnTarget {
  dialect: Dialect;
  port: number;
  stream: string;
  localAddress: string;
  /** agentwire: resume after this seq. */
  since?: number;
  /** socketio: the session and offset to recover (connection state recovery). */
  recover?: { pid: string; offset: string };
  /** Ask for what resuming needs: nchan's message ids (the ws+meta.nchan subprotocol). */
  resumable?: boolean;
  /** nchan: resume after this message id. */
  lastEventId?: string;
  /** agentwire: accept merged token deltas, as the client SDK does. */
  coalesce?: boolean;
}

/** What every connection of a worker adds to. */
export interface Tally {
  hist: Histogram;
  delivered: number;
  /** Close codes seen in close frames, or -1 for a socket that ended without one. */
  closes: Map<number, number>;
}

// Every benchmark event carries `"t":<monotonic ns>` in its payload and no other key is named `t`,
// so counting this marker counts deliveries whatever the dialect wraps the event in.
const MARK = Buffer.from('"t":');
// Token deltas carry their stamp inside the text instead (driver.ts, tokenText).
const TOKEN_MARK = Buffer.from('~t');
// Clients must mask; an all-zero key is a valid key and spares us the XOR.
const ZERO_MASK = Buffer.alloc(4);
// One read buffer per thread: the callback consumes it synchronously before the next read.
const readBuffer = Buffer.allocUnsafe(256 * 1024);
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function clientFrame(data: string | Buffer, opcode = 0x1): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, 0x80 | len])
      : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, ZERO_MASK, payload]);
}

function pathOf(t: ConnTarget): string {
  const s = encodeURIComponent(t.stream);
  switch (t.dialect) {
    case 'agentwire':
      return '/v1/ws';
    case 'ws':
      return `/?stream=${s}`;
    case 'socketio':
      return `/socket.io/?EIO=4&transport=websocket&stream=${s}`;
    case 'nchan':
      return t.lastEventId === undefined
        ? `/sub/${s}`
        : `/sub/${s}?last_event_id=${encodeURIComponent(t.lastEventId)}`;
  }
}

/**
 * A deliberately lean WebSocket client: raw TCP, a hand-written frame parser over a shared read
 * buffer, and a marker scan instead of JSON parsing, so one load core can absorb far more
 * deliveries than one server core can produce.
 */
export class LeanConn {
  socket: Socket | undefined;
  ready = false;
  done = false;
  /** Events this connection received since it was opened. */
  count = 0;
  pid: string | undefined;
  offset: string | undefined;
  trackOffsets = false;
  private upgraded = false;
  private pending: Buffer | undefined;
  private onReady: ((ok: boolean) => void) | undefined;

  constructor(
    readonly target: ConnTarget,
    private readonly tally: Tally,
    /** Called once when `count` first reaches `goal`. */
    private readonly goal = Infinity,
    private readonly onGoal?: () => void,
  ) {}

  open(): Promise<boolean> {
    const t = this.target;
    return new Promise((resolve) => {
      this.onReady = resolve;
      const socket = connect({
        host: '127.0.0.1',
        port: t.port,
        localAddress: t.localAddress,
        noDelay: true,
        onread: {
          buffer: readBuffer,
          callback: (n: number, buf: Uint8Array) => this.onData(buf as Buffer, n),
        },
      });
      this.socket = socket;
      socket.on('connect', () => {
        socket.write(
          `GET ${pathOf(t)} HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            (t.dialect === 'nchan' && t.resumable ? 'Sec-WebSocket-Protocol: ws+meta.nchan\r\n' : '') +
            `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        if (this.socket === socket) {
          this.socket = undefined;
          if (this.ready) this.tally.closes.set(-1, (this.tally.closes.get(-1) ?? 0) + 1);
          this.settle(false);
        }
      });
    });
  }

  /** Ends the connection abruptly, as a network drop would. */
  drop(): void {
    const s = this.socket;
    this.socket = undefined;
    this.ready = false;
    s?.destroy();
  }

  private settle(ok: boolean): void {
    const cb = this.onReady;
    this.onReady = undefined;
    if (ok) this.ready = true;
    cb?.(ok);
  }

  private send(text: string): void {
    this.socket?.write(clientFrame(text));
  }

  private onData(chunk: Buffer, n: number): boolean {
    // A view of just the bytes read: a marker search must not run on into the stale rest of the
    // shared buffer.
    let buf = chunk.subarray(0, n);
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = undefined;
    }
    const end = buf.length;
    let pos = 0;
    if (!this.upgraded) {
      const head = buf.indexOf('\r\n\r\n');
      if (head === -1 || head >= end) {
        this.pending = Buffer.from(buf.subarray(0, end));
        return true;
      }
      if (!buf.toString('latin1', 0, 12).startsWith('HTTP/1.1 101')) {
        this.socket?.destroy();
        return false;
      }
      this.upgraded = true;
      pos = head + 4;
      this.onUpgraded();
    }
    const now = Number(process.hrtime.bigint());
    while (end - pos >= 2) {
      const b0 = buf[pos]!;
      let len = buf[pos + 1]! & 0x7f;
      let at = pos + 2;
      if (len === 126) {
        if (end - pos < 4) break;
        len = buf.readUInt16BE(pos + 2);
        at += 2;
      } else if (len === 127) {
        if (end - pos < 10) break;
        len = Number(buf.readBigUInt64BE(pos + 2));
        at += 8;
      }
      if (end - at < len) break;
      this.onFrame(b0 & 0x0f, buf, at, at + len, now);
      pos = at + len;
    }
    // Whatever is left is part of a frame: copy it, the shared read buffer is about to be reused.
    if (pos < end) this.pending = Buffer.from(buf.subarray(pos, end));
    return true;
  }

  private onUpgraded(): void {
    const t = this.target;
    if (t.dialect === 'agentwire') {
      const since = t.since === undefined ? '' : `,"since":{"seq":${t.since}}`;
      const coalesce = t.coalesce ? ',"coalesce":true' : '';
      this.send(`{"op":"subscribe","stream":${JSON.stringify(t.stream)}${since}${coalesce}}`);
    } else if (t.dialect === 'nchan') {
      this.settle(true);
    }
  }

  private onFrame(opcode: number, buf: Buffer, start: number, end: number, now: number): void {
    if (opcode === 0x8) {
      const code = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
      this.tally.closes.set(code, (this.tally.closes.get(code) ?? 0) + 1);
      this.ready = false;
      this.socket?.destroy();
      return;
    }
    if (opcode === 0x9) {
      this.socket?.write(clientFrame(Buffer.from(buf.subarray(start, end)), 0xa));
      return;
    }
    if (opcode > 0x2) return;
    let events = 0;
    const tail = stampAtEnd(buf, start, end);
    if (tail >= 0 && !isBatch(buf, start, end)) {
      // Most frames hold one event whose stamp closes it: read it without a search.
      this.tally.hist.record((now - tail) / 1000);
      events = 1;
    } else {
      for (let i = buf.indexOf(MARK, start); i !== -1 && i < end; i = buf.indexOf(MARK, i + 4)) {
        let j = i + 4;
        let stamp = 0;
        for (let c = buf[j]!; c >= 48 && c <= 57; c = buf[++j]!) stamp = stamp * 10 + (c - 48);
        this.tally.hist.record((now - stamp) / 1000);
        events++;
      }
      if (events === 0)
        for (
          let i = buf.indexOf(TOKEN_MARK, start);
          i !== -1 && i < end;
          i = buf.indexOf(TOKEN_MARK, i + 2)
        ) {
          let j = i + 2;
          let stamp = 0;
          for (let c = buf[j]!; c >= 48 && c <= 57; c = buf[++j]!) stamp = stamp * 10 + (c - 48);
          this.tally.hist.record((now - stamp) / 1000);
          events++;
        }
    }
    if (events > 0) {
      this.tally.delivered += events;
      this.count += events;
      if (this.trackOffsets)
        this.offset =
          this.target.dialect === 'nchan' ? nchanId(buf, start, end) : socketIoOffset(buf, start, end);
      if (!this.done && this.count >= this.goal) {
        this.done = true;
        this.onGoal?.();
      }
      return;
    }
    if (!this.ready) this.onControl(buf.toString('utf8', start, end));
    else if (this.target.dialect === 'socketio' && end - start === 1 && buf[start] === 0x32) this.send('3');
  }

  /** Frames before the subscription is live: each dialect's way of saying "subscribed". */
  private onControl(text: string): void {
    switch (this.target.dialect) {
      case 'agentwire':
        if (text.startsWith('{"op":"subscribed"')) this.settle(true);
        else if (text.startsWith('{"op":"error"')) this.socket?.destroy();
        return;
      case 'ws':
        if (text === '{"op":"ready"}') this.settle(true);
        return;
      case 'socketio':
        if (text.startsWith('0{')) {
          const r = this.target.recover;
          this.send(r ? `40${JSON.stringify(r)}` : '40');
        } else if (text.startsWith('40')) {
          this.pid = /"pid":"([^"]+)"/.exec(text)?.[1];
          this.settle(true);
        } else if (text === '2') {
          this.send('3');
        }
        return;
      case 'nchan':
        return;
    }
  }
}

const BATCH_OP = Buffer.from('{"op":"events"');

/** An agentwire `events` frame: several events, each with its own stamp. */
function isBatch(buf: Buffer, start: number, end: number): boolean {
  return (
    end - start > BATCH_OP.length &&
    buf[start + 12] === 0x73 &&
    buf.compare(BATCH_OP, 0, BATCH_OP.length, start, start + BATCH_OP.length) === 0
  );
}

/**
 * The stamp of a frame that ends with it (`…"t":123}}}` or `…"t":123}}]`), read backwards;
 * -1 when the frame does not end that way.
 */
function stampAtEnd(buf: Buffer, start: number, end: number): number {
  let i = end - 1;
  while (i > start && (buf[i] === 0x7d || buf[i] === 0x5d)) i--;
  let stamp = 0;
  let scale = 1;
  const last = i;
  for (; i > start && buf[i]! >= 48 && buf[i]! <= 57; i--) {
    stamp += (buf[i]! - 48) * scale;
    scale *= 10;
  }
  const ok =
    i < last &&
    i - 3 > start &&
    buf[i] === 0x3a &&
    buf[i - 1] === 0x22 &&
    buf[i - 2] === 0x74 &&
    buf[i - 3] === 0x22;
  return ok ? stamp : -1;
}

/** With ws+meta.nchan every message starts with `id: <message id>\n`. */
function nchanId(buf: Buffer, start: number, end: number): string | undefined {
  if (buf.toString('latin1', start, start + 4) !== 'id: ') return undefined;
  const eol = buf.indexOf(0x0a, start);
  return eol > start && eol < end ? buf.toString('latin1', start + 4, eol) : undefined;
}

/** With connection state recovery, Socket.IO appends the packet's offset as its last argument. */
function socketIoOffset(buf: Buffer, start: number, end: number): string | undefined {
  if (buf[end - 1] !== 0x5d || buf[end - 2] !== 0x22) return undefined;
  const open = buf.lastIndexOf(0x22, end - 3);
  return open > start ? buf.toString('latin1', open + 1, end - 2) : undefined;
}
