import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { serveController } from './child.js';
import { EnvelopeMaker, TokenMaker, nowNs } from './driver.js';

/**
 * The Socket.IO 4.8 peer, as the seed systems use it: every subscriber joins the room of its stream
 * (named in the handshake query) and events are broadcast to the room. With BENCH_RECOVERY=1 it
 * turns on connection state recovery, Socket.IO's own way to replay missed packets on reconnect.
 * With BENCH_REDIS_URL it is one node of several, joined by the Redis Streams adapter (the
 * adapter that supports connection state recovery across nodes).
 */
const recovery = process.env.BENCH_RECOVERY === '1';
const redisUrl = process.env.BENCH_REDIS_URL;
const prefix = process.env.BENCH_REDIS_PREFIX ?? 'sio-bench:';
const redis = redisUrl === undefined ? undefined : new Redis(redisUrl);
const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  ...(redis && {
    adapter: createAdapter(redis, {
      streamName: `${prefix}stream`,
      channelPrefix: `${prefix}channel`,
      sessionKeyPrefix: `${prefix}session:`,
    }),
  }),
  ...(recovery && {
    connectionStateRecovery: { maxDisconnectionDuration: 5 * 60_000, skipMiddlewares: true },
  }),
});
const envelopes = new EnvelopeMaker();
// Token streams: every delta so far, sent to a late joiner (`history=1`) as one `history` event.
const tokenMaker = new TokenMaker();
const histories = new Map<string, object[]>();

io.on('connection', (socket) => {
  const stream = String(socket.handshake.query.stream ?? '');
  if (!socket.recovered) void socket.join(stream);
  if (socket.handshake.query.history === '1') socket.emit('history', histories.get(stream) ?? []);
});

await new Promise<void>((resolve) => http.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));

function publish(stream: string, stamps: number[]): void {
  for (const stamp of stamps) io.to(stream).emit('event', envelopes.make(stream, stamp));
}

function tokens(stream: string, stamps: number[]): void {
  let history = histories.get(stream);
  if (!history) histories.set(stream, (history = []));
  for (const stamp of stamps) {
    const { envelope } = tokenMaker.make(stream, stamp);
    history.push(envelope);
    io.to(stream).emit('event', envelope);
  }
}

serveController((http.address() as AddressInfo).port, {
  publish,
  async burst(streams, perStream) {
    for (const stream of streams) publish(stream, Array.from({ length: perStream }, nowNs));
  },
  connections: () => io.engine.clientsCount,
  tokens,
  heldBytes() {
    // Engine.IO's packets not yet handed to the socket, plus what the socket has not sent.
    let max = 0;
    for (const socket of io.sockets.sockets.values()) {
      const conn = socket.conn as unknown as {
        writeBuffer: { data?: unknown }[];
        transport: { socket?: { bufferedAmount?: number } };
      };
      let bytes = conn.transport.socket?.bufferedAmount ?? 0;
      for (const packet of conn.writeBuffer)
        bytes += typeof packet.data === 'string' ? packet.data.length : 0;
      max = Math.max(max, bytes);
    }
    return max;
  },
  close: () =>
    new Promise<void>((resolve) => void io.close(() => resolve())).finally(() => redis?.disconnect()),
});
