import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentwireError, parseJson, PRODUCER_SUBPROTOCOL } from '@agentwire/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import { ProducerConnection } from './connection.js';
import type { ProducerCredential } from './credential.js';
import type { ProducerLink } from './link.js';
import type { ProducerRegistry } from './registry.js';

export interface ProducerEndpointOptions {
  registry: ProducerRegistry;
  /** Largest frame a producer may send; a hello lists every task it owns, so this is generous. */
  maxFrameBytes: number;
  logger: Logger;
}

/** `/v1/producer`: the producer channel over a WebSocket, one JSON op per text frame. */
export class ProducerEndpoint {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly options: ProducerEndpointOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(PRODUCER_SUBPROTOCOL) ? PRODUCER_SUBPROTOCOL : false),
    });
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** `credential` is who connected: it owns the producer id it says hello with, within its projects. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, credential: ProducerCredential): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, credential));
  }

  private accept(ws: WebSocket, credential: ProducerCredential): void {
    this.sockets.add(ws);
    const link: ProducerLink = {
      send: (op) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(op));
      },
      close: (code, reason) => ws.close(code, reason),
    };
    const connection = new ProducerConnection(this.options.registry, link, this.options.logger, credential);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        connection.receive(undefined);
        return;
      }
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
      let value: unknown;
      try {
        value = parseJson(text);
      } catch (err) {
        link.send({ op: 'error', code: (err as AgentwireError).code, message: (err as Error).message });
        return;
      }
      connection.receive(value);
    });
    ws.on('error', (err) => this.options.logger.debug({ err }, 'producer websocket error'));
    ws.once('close', () => {
      this.sockets.delete(ws);
      connection.closed();
    });
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.close(1012, 'shutting_down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const ws of this.sockets) ws.terminate();
  }
}
