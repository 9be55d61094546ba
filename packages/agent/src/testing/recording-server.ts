import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  stream: string;
  events: { id?: string; type: string; data: unknown }[];
  at: number;
}

/**
 * What the server does with one request: store and answer, drop the socket before storing, store
 * and then drop the socket (the ack is lost), or answer with a status and body.
 */
export type Behavior =
  'ok' | 'destroy' | 'lost-ack' | { status: number; body?: unknown; headers?: Record<string, string> };

/** A stand-in gateway on a real socket: records every request and stores events idempotently. */
export class RecordingServer {
  readonly requests: RecordedRequest[] = [];
  readonly stored = new Map<string, { id: string; seq: number; type: string; data: unknown }[]>();
  delayMs = 0;
  private readonly script: Behavior[] = [];
  private readonly server = createServer((req, res) => void this.handle(req, res));

  static async start(): Promise<RecordingServer> {
    const s = new RecordingServer();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The next requests behave like this, in order; after that, every request succeeds. */
  failNext(...behaviors: Behavior[]): void {
    this.script.push(...behaviors);
  }

  storedTypes(stream: string): string[] {
    return (this.stored.get(stream) ?? []).map((e) => e.type);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Like a gateway without the producer channel: the SDK's command channel keeps retrying.
    if (req.headers.upgrade !== undefined) {
      res.writeHead(404, { connection: 'close' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: RecordedRequest['events'] };
    const match = /^\/v1\/streams\/([^/]+)\/events$/.exec(req.url ?? '');
    const stream = decodeURIComponent(match?.[1] ?? '');
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      stream,
      events: body.events,
      at: Date.now(),
    });
    const behavior = this.script.shift() ?? 'ok';
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (behavior === 'destroy') {
      req.socket.destroy();
      return;
    }
    if (typeof behavior === 'object') {
      res.writeHead(behavior.status, { 'content-type': 'application/json', ...behavior.headers });
      res.end(behavior.body === undefined ? '' : JSON.stringify(behavior.body));
      return;
    }
    const results = body.events.map((e) => this.store(stream, e));
    if (behavior === 'lost-ack') {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ stream, epoch: 'e1', results }));
  }

  private store(stream: string, e: RecordedRequest['events'][number]) {
    const log = this.stored.get(stream) ?? [];
    this.stored.set(stream, log);
    const prior = log.find((x) => x.id === e.id);
    if (prior) return { id: prior.id, seq: prior.seq, duplicate: true };
    const entry = { id: e.id ?? `gen-${log.length + 1}`, seq: log.length + 1, type: e.type, data: e.data };
    log.push(entry);
    return { id: entry.id, seq: entry.seq, duplicate: false };
  }
}
