import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * The bytes of one unmasked, final WebSocket text frame (RFC 6455 §5.2) carrying `text`. Servers
 * never mask, and permessage-deflate is off, so a frame is the same bytes for every subscriber.
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (head === 2) {
    frame[1] = length;
  } else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, head, 'utf8');
  return frame;
}

// The hub hands every subscriber of a stream the same string in one loop, so remembering the last
// one frames each event once per fan-out instead of once per subscriber.
let lastText: string | undefined;
let lastFrame: Buffer | undefined;

export function cachedTextFrame(text: string): Buffer {
  if (text !== lastText) {
    lastFrame = textFrame(text);
    lastText = text;
  }
  return lastFrame!;
}

// Sockets written to in this turn, uncorked together once it ends: a subscriber that gets several
// frames in one turn (a group commit of many appends, several streams) gets them in one syscall.
const corked: Socket[] = [];

function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.length = 0;
}

/** Writes `frame` to `socket`, coalescing with whatever else the socket gets in this turn. */
export function writeCorked(socket: Socket, frame: Buffer): void {
  if (socket.writableCorked === 0) {
    socket.cork();
    if (corked.push(socket) === 1) process.nextTick(uncorkAll);
  }
  socket.write(frame);
}

/** The TCP socket under a ws connection (ws keeps it as `_socket` while the connection is open). */
export function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}
