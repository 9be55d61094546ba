import { connect, type Socket } from 'node:net';

/** Called with the response status once the response has fully arrived. */
type Done = (status: number) => void;

/**
 * A lean keep-alive HTTP/1.1 client that pipelines requests over a few raw sockets. Responses come
 * back in request order on each socket, so a FIFO of callbacks is all the bookkeeping needed;
 * bodies are skipped by Content-Length (or chunked framing) without being parsed.
 */
class PipeConn {
  readonly waiting: Done[] = [];
  private buf: Buffer = Buffer.alloc(0);

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const headEnd = this.buf.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = this.buf.toString('latin1', 0, headEnd);
      const status = Number(head.slice(9, 12));
      let end: number;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length) {
        end = headEnd + 4 + Number(length[1]);
      } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const last = this.buf.indexOf('\r\n0\r\n\r\n', headEnd + 2);
        if (last === -1) return;
        end = last + 7;
      } else {
        end = headEnd + 4;
      }
      if (this.buf.length < end) return;
      this.buf = this.buf.subarray(end);
      this.waiting.shift()?.(status);
    }
  }
}

export class PipelinedHttp {
  private conns: PipeConn[] = [];
  private next = 0;

  constructor(
    private readonly port: number,
    private readonly connections: number,
  ) {}

  async open(): Promise<void> {
    this.conns = await Promise.all(
      Array.from(
        { length: this.connections },
        () =>
          new Promise<PipeConn>((resolve, reject) => {
            const socket = connect({ host: '127.0.0.1', port: this.port, noDelay: true });
            socket.once('connect', () => resolve(new PipeConn(socket)));
            socket.once('error', reject);
          }),
      ),
    );
  }

  /** Requests in flight, all connections together. */
  get outstanding(): number {
    return this.conns.reduce((n, c) => n + c.waiting.length, 0);
  }

  /** Sends one request on the next connection (round-robin); `done` runs when its response is in. */
  post(path: string, body: string, contentType: string, done: Done, connection?: number): void {
    const conn = this.conns[connection ?? this.next++ % this.conns.length]!;
    conn.waiting.push(done);
    conn.socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  close(): void {
    for (const c of this.conns) c.socket.destroy();
    this.conns = [];
  }
}
