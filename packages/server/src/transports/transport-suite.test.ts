// Runs the transport conformance suite once per transport. Each adapter below is a real client of
// its transport (a socket, a streaming HTTP reader, a fetch loop), written here against the wire
// format rather than borrowed from the client SDK, so the server is tested on what it sends.
//
// Extension point: a new transport (Socket.IO next) adds one `TransportUnderTest` to `transports`.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import {
  parseServerOp,
  type AnyEnvelope,
  type ErrorBody,
  type PollAnswer,
  type Since,
} from '@agentwire/protocol';
import { WsProbe } from '../testing/ws-probe.js';
import {
  RecordingClient,
  runTransportSuite,
  type OpenOptions,
  type SubscribedInfo,
  type TransportUnderTest,
} from '../testing/transport-suite.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where a client stands after a `subscribed`: the events that follow continue from here. */
function positionAfter(info: SubscribedInfo, since: Since | undefined): number {
  return info.snapshot?.seq ?? (info.recovered && since ? since.seq : info.seq);
}

/** Native WebSocket: resubscribes with `since` = the last seq it holds after every lost socket. */
class WsClient extends RecordingClient {
  private probe: WsProbe | undefined;
  private epoch: string | undefined;
  private position = 0;
  private subscribedOnce = false;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly stream: string,
    private since: Since | undefined,
    private readonly options: OpenOptions,
  ) {
    super();
  }

  async connect(): Promise<void> {
    const probe = await WsProbe.open(this.url);
    this.probe = probe;
    const since = this.since;
    probe.ws.on('message', (data) => {
      const op = parseServerOp(data.toString());
      if (op.op === 'subscribed') {
        const { epoch, seq, recovered, snapshot } = op;
        this.epoch = epoch;
        this.position = positionAfter(op, since);
        this.subscribedOnce = true;
        this.subscribed.push({ epoch, seq, recovered, ...(snapshot && { snapshot }) });
      } else if (op.op === 'event' || op.op === 'events') {
        const events = op.op === 'event' ? [op.event] : op.events;
        this.events.push(...events);
        this.position = events.at(-1)?.seq ?? this.position;
      } else if (op.op === 'error') {
        this.errors.push({
          code: op.code,
          message: op.message,
          ...(op.details !== undefined && { details: op.details }),
        });
      }
      this.changed();
    });
    probe.ws.once('close', () => {
      if (!this.stopped) void this.reconnect();
    });
    probe.send({
      op: 'subscribe',
      stream: this.stream,
      ...(since && { since }),
      ...(this.options.snapshot && { snapshot: true }),
    });
  }

  private async reconnect(): Promise<void> {
    this.resuming();
    if (this.subscribedOnce)
      this.since = { ...(this.epoch !== undefined && { epoch: this.epoch }), seq: this.position };
    while (!this.stopped) {
      try {
        await this.connect();
        return;
      } catch {
        await pause(20);
      }
    }
  }

  kill(): void {
    this.probe?.ws.terminate();
  }

  close(): void {
    this.stopped = true;
    this.probe?.close();
  }
}

/**
 * A streaming SSE reader on `http.request`, parsing the event-stream format line by line as the
 * HTML spec describes. On a lost connection it reconnects with `Last-Event-ID`, as EventSource
 * does, and also updates `epoch` in the URL to the one it was told (EventSource cannot, see
 * sse.test.ts for the plain-EventSource behaviour). A non-200 answer is final, as for EventSource.
 */
class SseClient extends RecordingClient {
  private req: ClientRequest | undefined;
  private lastEventId: string | undefined;
  private epoch: string | undefined;
  private stopped = false;

  constructor(
    private readonly base: string,
    private readonly stream: string,
    private readonly since: Since | undefined,
    private readonly options: OpenOptions,
  ) {
    super();
  }

  connect(): void {
    const url = new URL(`/v1/streams/${encodeURIComponent(this.stream)}/sse`, this.base);
    const epoch = this.epoch ?? this.since?.epoch;
    if (epoch !== undefined) url.searchParams.set('epoch', epoch);
    if (this.lastEventId === undefined) {
      if (this.since) url.searchParams.set('since', String(this.since.seq));
      if (this.options.snapshot) url.searchParams.set('snapshot', '1');
    }
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const req = request(url, { headers, agent: false });
    this.req = req;
    let final = false;
    req.on('response', (res: IncomingMessage) => {
      final = res.statusCode !== 200;
      this.read(res);
    });
    req.on('close', () => {
      if (this.stopped || final) return;
      this.resuming();
      setTimeout(() => this.connect(), 10);
    });
    req.on('error', () => {});
    req.end();
  }

  private read(res: IncomingMessage): void {
    res.setEncoding('utf8');
    let pending = '';
    let data: string[] = [];
    let type = '';
    let id: string | undefined;
    res.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split(/\r\n|\r|\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (id !== undefined) this.lastEventId = id;
          if (data.length > 0) this.dispatch(type || 'message', data.join('\n'));
          data = [];
          type = '';
          id = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') type = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
    });
    res.on('error', () => {});
  }

  private dispatch(type: string, data: string): void {
    const value = JSON.parse(data) as unknown;
    if (type === 'subscribed') {
      const { epoch, seq, recovered, snapshot } = value as SubscribedInfo;
      this.epoch = epoch;
      this.subscribed.push({ epoch, seq, recovered, ...(snapshot && { snapshot }) });
    } else if (type === 'event') {
      this.events.push(value as AnyEnvelope);
    } else if (type === 'error') {
      this.errors.push(value as ErrorBody);
    }
    this.changed();
  }

  kill(): void {
    this.req?.destroy();
  }

  close(): void {
    this.stopped = true;
    this.req?.destroy();
  }
}

/** Long-polling: one fetch at a time, each resuming `after` the last seq (or `head`) it was given. */
class PollingClient extends RecordingClient {
  private controller: AbortController | undefined;
  private stopped = false;

  constructor(
    private readonly base: string,
    private readonly stream: string,
    private readonly since: Since | undefined,
    private readonly options: OpenOptions,
  ) {
    super();
  }

  async run(): Promise<void> {
    let after = this.since ? String(this.since.seq) : undefined;
    let epoch = this.since?.epoch;
    let first = true;
    while (!this.stopped) {
      const url = new URL(`/v1/streams/${encodeURIComponent(this.stream)}/poll`, this.base);
      if (after !== undefined) url.searchParams.set('after', after);
      if (epoch !== undefined) url.searchParams.set('epoch', epoch);
      if (first && this.options.snapshot) url.searchParams.set('snapshot', '1');
      // The first poll answers at once, telling where the client stands (the `subscribed` of polling).
      url.searchParams.set('wait', first ? '0' : '5');
      const controller = new AbortController();
      this.controller = controller;
      let res: Response;
      let body: unknown;
      try {
        res = await fetch(url, { signal: controller.signal });
        body = await res.json();
      } catch {
        // Killed or refused: poll again from where we are.
        if (!this.stopped) this.resuming();
        await pause(10);
        continue;
      }
      if (!res.ok) {
        this.errors.push((body as { error: ErrorBody }).error);
        this.changed();
        if (res.status < 500) return;
        await pause(10);
        continue;
      }
      const answer = body as PollAnswer;
      if (first || !answer.recovered) {
        const { epoch: e, head, recovered, snapshot } = answer;
        this.subscribed.push({ epoch: e, seq: head, recovered, ...(snapshot && { snapshot }) });
      }
      first = false;
      this.events.push(...answer.events);
      epoch = answer.epoch;
      after = String(answer.events.at(-1)?.seq ?? answer.head);
      this.changed();
    }
  }

  kill(): void {
    this.controller?.abort();
  }

  close(): void {
    this.stopped = true;
    this.controller?.abort();
  }
}

const transports: TransportUnderTest[] = [
  {
    name: 'ws',
    async open(url, stream, since, options = {}) {
      const client = new WsClient(url.replace(/^http/, 'ws') + '/v1/ws', stream, since, options);
      await client.connect();
      return client;
    },
  },
  {
    name: 'sse',
    async open(url, stream, since, options = {}) {
      const client = new SseClient(url, stream, since, options);
      client.connect();
      return client;
    },
  },
  {
    name: 'polling',
    async open(url, stream, since, options = {}) {
      const client = new PollingClient(url, stream, since, options);
      void client.run();
      return client;
    },
  },
];

for (const transport of transports) runTransportSuite(transport);
