import { WebSocketServer, type WebSocket } from 'ws';
import { serveController } from './child.js';
import { EnvelopeMaker, TokenMaker, nowNs } from './driver.js';

/**
 * The plain `ws` peer: what a team writes by hand. Subscribers name their stream in the URL; each
 * event is stringified once and sent to every socket of its stream, one frame per event.
 */
const rooms = new Map<string, Set<WebSocket>>();
const envelopes = new EnvelopeMaker();
// Token streams: every delta so far, replayed to a late joiner (`?history=1`) in one frame.
const tokenMaker = new TokenMaker();
const histories = new Map<string, string[]>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, backlog: 4096 });
await new Promise<void>((resolve) => wss.once('listening', () => resolve()));

wss.on('connection', (ws, req) => {
  const stream = new URL(req.url ?? '/', 'http://localhost').searchParams.get('stream') ?? '';
  let room = rooms.get(stream);
  if (!room) rooms.set(stream, (room = new Set()));
  room.add(ws);
  ws.on('error', () => {});
  ws.on('close', () => {
    room.delete(ws);
    if (room.size === 0) rooms.delete(stream);
  });
  ws.send('{"op":"ready"}');
  if (new URL(req.url ?? '/', 'http://localhost').searchParams.get('history') === '1')
    ws.send(`[${(histories.get(stream) ?? []).join(',')}]`);
});

function tokens(stream: string, stamps: number[]): void {
  const room = rooms.get(stream);
  let history = histories.get(stream);
  if (!history) histories.set(stream, (history = []));
  for (const stamp of stamps) {
    const text = JSON.stringify(tokenMaker.make(stream, stamp).envelope);
    history.push(text);
    if (room) for (const ws of room) ws.send(text);
  }
}

function publish(stream: string, stamps: number[]): void {
  const room = rooms.get(stream);
  for (const stamp of stamps) {
    const text = JSON.stringify(envelopes.make(stream, stamp));
    if (room) for (const ws of room) ws.send(text);
  }
}

const address = wss.address();
serveController(typeof address === 'object' && address ? address.port : 0, {
  publish,
  async burst(streams, perStream) {
    for (const stream of streams) publish(stream, Array.from({ length: perStream }, nowNs));
  },
  connections: () => wss.clients.size,
  tokens,
  heldBytes() {
    let max = 0;
    for (const ws of wss.clients) max = Math.max(max, ws.bufferedAmount);
    return max;
  },
  close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
});
