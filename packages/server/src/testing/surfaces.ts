// Every way a watcher or a producer reaches the gateway, in one list the security suites iterate:
// the isolation tests (auth/isolation.test.ts, auth/project-move.test.ts) follow a task on each
// watcher surface, the fuzz (fuzz.test.ts) throws frames at each socket and requests at each
// route. A new transport adds one entry here; a new Socket.IO dialect needs only its entry in
// `followers` (the compiler asks for it), and every suite covers it without further code.
// Not exported from testing/index.ts: it drives test clients.
import { errorCodes, PRODUCER_PATH } from '@agentwire/protocol';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { dialectNames, type DialectName } from '../surfaces/dialect.js';
import { DEFAULT_SOCKETIO_PATHS } from '../surfaces/socketio/socketio-paths.js';
import { pace, waitUntil } from './wait.js';

/** A watcher following one task (or a room over every task) on one surface. */
export interface Watch {
  /** Everything the surface delivered, one entry per message, as text. */
  readonly texts: string[];
  /** The registry code of the refusal the surface reported (an error message or a close), once it did. */
  readonly refusal: string | undefined;
  /** Resolves once `check` holds; rejects naming `what` after `timeoutMs`. */
  until(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface Surface {
  readonly name: string;
  /**
   * How a watcher follows a task here: `stream` surfaces follow one task and are refused what they
   * may not see; `feed` surfaces are rooms over every task that leave out what they may not see.
   * Resolves once following (or refused).
   */
  readonly watch?: {
    readonly follows: 'stream' | 'feed';
    /** Each request is checked on its own and holds no subscription (a plain polling route). */
    readonly stateless?: boolean;
    open(gatewayUrl: string, credential: string, stream: string): Promise<Watch>;
  };
  /** A socket the fuzz opens raw: its paths (B's project or task where one is named) and its frames. */
  readonly socket?: {
    readonly paths: readonly string[];
    readonly frames: 'native' | 'socketio';
    /** The first frame, with `TOKEN` standing for the credential. */
    readonly handshake?: string;
  };
  /** Routes the fuzz requests, naming project B's task where they name one. */
  readonly routes?: readonly string[];
}

/** The registry code a close code stands for, when only one code uses it. */
function codeOfClose(close: number): string | undefined {
  const codes = Object.entries(errorCodes).filter(([, e]) => e.close === close);
  return codes.length === 1 ? codes[0]![0] : undefined;
}

/** The shared part of every watch: recording, waiting, the first refusal. */
class Recorder implements Watch {
  readonly texts: string[] = [];
  refusal: string | undefined;
  onClose: () => void = () => {};

  record(text: string): void {
    this.texts.push(text);
  }

  refuse(code: unknown): void {
    if (this.refusal === undefined && typeof code === 'string') this.refusal = code;
  }

  until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    return waitUntil(check, `${what}; received ${JSON.stringify(this.texts.slice(-3))}`, timeoutMs);
  }

  close(): void {
    this.onClose();
  }
}

const taskId = (stream: string) => stream.replace(/^task:/, '');
const wsUrl = (gatewayUrl: string) => gatewayUrl.replace(/^http/, 'ws');

const nativeWebSocket: Surface = {
  name: 'native WebSocket',
  watch: {
    follows: 'stream',
    async open(gatewayUrl, credential, stream) {
      const watch = new Recorder();
      const ws = new WebSocket(`${wsUrl(gatewayUrl)}/v1/ws`);
      watch.onClose = () => ws.close();
      ws.on('message', (data) => {
        const text = data.toString();
        watch.record(text);
        const op = JSON.parse(text) as { op?: string; code?: string; stream?: string };
        if (op.op === 'error' && (op.stream === stream || op.stream === undefined)) watch.refuse(op.code);
      });
      ws.on('close', (code) => watch.refuse(codeOfClose(code)));
      ws.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      // Browsers authenticate with the first frame, keeping the token out of the URL.
      ws.send(JSON.stringify({ op: 'auth', token: credential }));
      ws.send(JSON.stringify({ op: 'subscribe', stream, since: { seq: 0 }, ref: 'follow' }));
      await watch.until(
        () => watch.refusal !== undefined || watch.texts.some((t) => t.includes('"op":"subscribed"')),
        'subscribed',
      );
      return watch;
    },
  },
  socket: { paths: ['/v1/ws'], frames: 'native' },
};

const serverSentEvents: Surface = {
  name: 'SSE',
  watch: {
    follows: 'stream',
    async open(gatewayUrl, credential, stream) {
      const watch = new Recorder();
      const abort = new AbortController();
      watch.onClose = () => abort.abort();
      // EventSource cannot set headers: browsers pass the token in the URL.
      const res = await fetch(
        `${gatewayUrl}/v1/streams/${encodeURIComponent(stream)}/sse?since=0&token=${credential}`,
        { signal: abort.signal },
      );
      if (res.status !== 200) {
        const text = await res.text();
        watch.record(text);
        watch.refuse(/"code":"([a-z_]+)"/.exec(text)?.[1]);
        return watch;
      }
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      void (async () => {
        let buffered = '';
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffered += value;
            let end: number;
            while ((end = buffered.indexOf('\n\n')) >= 0) {
              const message = buffered.slice(0, end);
              buffered = buffered.slice(end + 2);
              if (message.startsWith(':')) continue;
              watch.record(message);
              if (/^event: error$/m.test(message)) watch.refuse(/"code":"([a-z_]+)"/.exec(message)?.[1]);
            }
          }
        } catch {
          // closed by the test
        }
      })();
      return watch;
    },
  },
  routes: ['/v1/streams/task:b1/sse', '/v1/streams/project:beta/sse?since=0'],
};

const longPolling: Surface = {
  name: 'long-polling',
  watch: {
    follows: 'stream',
    async open(gatewayUrl, credential, stream) {
      const watch = new Recorder();
      const abort = new AbortController();
      watch.onClose = () => abort.abort();
      let after = 0;
      const poll = async (): Promise<boolean> => {
        const res = await fetch(
          `${gatewayUrl}/v1/streams/${encodeURIComponent(stream)}/poll?after=${after}&wait=10`,
          { headers: { authorization: `Bearer ${credential}` }, signal: abort.signal },
        );
        const body = (await res.json()) as { head?: number; events?: unknown[]; error?: { code: string } };
        if (res.status !== 200) {
          watch.record(JSON.stringify(body));
          watch.refuse(body.error?.code);
          return false;
        }
        for (const e of body.events ?? []) watch.record(JSON.stringify(e));
        after = body.head ?? after;
        return true;
      };
      // The first answer comes at once (the events so far); the loop then waits for news.
      if (!(await poll())) return watch;
      void (async () => {
        try {
          while (await poll());
        } catch {
          // aborted by the test
        }
      })();
      return watch;
    },
  },
  routes: ['/v1/streams/task:b1/poll?after=0&wait=0', '/v1/streams/task:a1/poll?after=abc'],
};

const swarmTerminal: Surface = {
  name: 'seed 004 terminal WebSocket',
  watch: {
    follows: 'stream',
    async open(gatewayUrl, credential, stream) {
      const watch = new Recorder();
      const ws = new WebSocket(
        `${wsUrl(gatewayUrl)}/ws/admin/agent-swarm/${encodeURIComponent(taskId(stream))}?token=${credential}`,
      );
      watch.onClose = () => ws.close();
      ws.on('message', (data) => watch.record(data.toString()));
      ws.on('close', (code) => watch.refuse(codeOfClose(code)));
      ws.on('error', () => {});
      await watch.until(
        () => watch.refusal !== undefined || watch.texts.some((t) => t.includes('connection_established')),
        'connection_established',
      );
      return watch;
    },
  },
  socket: {
    paths: [
      '/ws/admin/agent-swarm/b1',
      '/ws/admin/agent-swarm/a1',
      '/ws/admin/agent-swarm/..%2Fb1',
      '/ws/admin/agent-swarm/%00',
    ],
    frames: 'native',
  },
};

const swarmPolling: Surface = {
  name: 'seed 004 terminal polling',
  watch: {
    follows: 'stream',
    stateless: true,
    async open(gatewayUrl, credential, stream) {
      const watch = new Recorder();
      let open = true;
      watch.onClose = () => (open = false);
      let next: number | undefined;
      const poll = async (): Promise<boolean> => {
        const after = next === undefined ? '' : `&after=${next}`;
        const res = await fetch(
          `${gatewayUrl}/v1/public/agent-swarms/${encodeURIComponent(taskId(stream))}/messages?token=${credential}${after}`,
        );
        const body = (await res.json()) as { next?: number; messages?: unknown[]; error?: { code: string } };
        if (res.status !== 200) {
          watch.record(JSON.stringify(body));
          watch.refuse(body.error?.code);
          return false;
        }
        for (const m of body.messages ?? []) watch.record(JSON.stringify(m));
        next = body.next;
        return true;
      };
      if (!(await poll())) return watch;
      // The terminal's own fallback polls on an interval; so does this client.
      void (async () => {
        while (open && (await poll().catch(() => false))) await pace(25);
      })();
      return watch;
    },
  },
  routes: ['/v1/public/agent-swarms/b1/messages', '/v1/public/agent-swarms/..%2Fb1/messages'],
};

/** How a client of each Socket.IO dialect follows one task; typed over every dialect name. */
const followers: Record<
  DialectName,
  { follows: 'stream' | 'feed'; follow(socket: Socket, stream: string): Promise<unknown> }
> = {
  native: {
    follows: 'stream',
    follow: (socket, stream) => socket.emitWithAck('subscribe', { stream, since: { seq: 0 } }),
  },
  mageagent: {
    follows: 'stream',
    follow: (socket, stream) => socket.emitWithAck('subscribe', { room: stream }),
  },
  progress: {
    follows: 'stream',
    follow: (socket, stream) => socket.emitWithAck('rejoin', { requestId: taskId(stream) }),
  },
  'flask-dashboard': {
    follows: 'feed',
    follow: (socket) => socket.emitWithAck('join_room', { room: 'monitoring' }),
  },
};

/** One dialect at one Socket.IO path, on the main namespace or on the dialect's own. */
function socketIo(path: string, dialect: DialectName, namespace: boolean): Surface {
  const follower = followers[dialect];
  return {
    name: `Socket.IO ${dialect} at ${path}${namespace ? ` /${dialect}` : ''}`,
    watch: {
      follows: follower.follows,
      async open(gatewayUrl, credential, stream) {
        const watch = new Recorder();
        const socket = io(namespace ? `${gatewayUrl}/${dialect}` : gatewayUrl, {
          path,
          auth: { token: credential },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
        });
        watch.onClose = () => socket.close();
        socket.onAny((event: string, payload: unknown) => {
          watch.record(`${event} ${JSON.stringify(payload)}`);
          if (event === 'error') watch.refuse((payload as { code?: unknown } | null)?.code);
        });
        socket.on('connect_error', (err: Error & { data?: { code?: unknown } }) =>
          watch.refuse(err.data?.code),
        );
        const connected = await new Promise<boolean>((resolve) => {
          socket.once('connect', () => resolve(true));
          socket.once('connect_error', () => resolve(false));
        });
        if (!connected) return watch;
        const ack = (await follower.follow(socket, stream)) as {
          ok?: boolean;
          op?: string;
          code?: string;
          error?: { code?: string };
        };
        watch.record(`ack ${JSON.stringify(ack)}`);
        if (ack.ok === false) watch.refuse(ack.error?.code);
        if (ack.op === 'error') watch.refuse(ack.code);
        return watch;
      },
    },
    ...(!namespace && {
      socket: {
        paths: [`${path}/?EIO=4&transport=websocket`],
        frames: 'socketio',
        handshake: '40{"token":"TOKEN"}',
      },
      routes: [`${path}/?EIO=4&transport=polling`, `${path}/?EIO=999&transport=polling`],
    }),
  };
}

const producerChannel: Surface = {
  name: 'producer channel',
  socket: { paths: [PRODUCER_PATH], frames: 'native' },
  routes: [PRODUCER_PATH],
};

/** Every surface: the transports, then each Socket.IO dialect on its path and as a namespace. */
export const surfaces: readonly Surface[] = [
  nativeWebSocket,
  serverSentEvents,
  longPolling,
  swarmTerminal,
  swarmPolling,
  producerChannel,
  ...DEFAULT_SOCKETIO_PATHS.map(({ path, dialect }) => socketIo(path, dialect, false)),
  ...dialectNames.map((dialect) => socketIo('/socket.io', dialect, true)),
];

/** The surfaces a watcher follows tasks on. */
export const watcherSurfaces = surfaces.filter(
  (s): s is Surface & { watch: NonNullable<Surface['watch']> } => s.watch !== undefined,
);
