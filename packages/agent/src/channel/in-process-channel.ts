import {
  parseGatewayOp,
  type ProducerOp,
  type ProducerPort,
  type ProducerPortConnection,
} from '@agentwire/protocol';
import { defaultReconnect, reconnectDelay } from '../retry.js';
import type { ChannelHandlers, ChannelStatus, CommandChannel } from './command-channel.js';

// The gateway closes with this when it gave up on a silent producer (a blocked event loop, say):
// worth coming back. Any other close (shutdown, replaced by a newer connection) is final here,
// since an in-process gateway that shut down does not come back.
const CLOSE_SILENT = 4101;

/** The producer channel as direct calls into a gateway running in this process. */
export class InProcessChannel implements CommandChannel {
  #status: ChannelStatus = 'connecting';
  #handlers: ChannelHandlers | undefined;
  #connection: ProducerPortConnection | undefined;
  #attempt = 0;
  #closed = false;

  constructor(private readonly port: ProducerPort) {}

  get status(): ChannelStatus {
    return this.#status;
  }

  open(handlers: ChannelHandlers): void {
    if (this.#handlers) throw new Error('This channel is already open.');
    this.#handlers = handlers;
    this.#connect();
  }

  send(op: ProducerOp): boolean {
    if (this.#status !== 'connected' || !this.#connection) return false;
    this.#connection.send(op);
    return true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection && this.#status === 'connected') connection.send({ op: 'bye' });
    connection?.close();
    this.#setStatus('closed');
  }

  #connect(): void {
    if (this.#closed) return;
    this.#setStatus('connecting');
    const handlers = this.#handlers!;
    const connection: ProducerPortConnection = this.port.connectProducer(
      (raw) => {
        if (connection !== this.#connection) return;
        let op;
        try {
          op = parseGatewayOp(raw);
        } catch (err) {
          handlers.status(this.#status, `unreadable op from the gateway: ${(err as Error).message}`);
          return;
        }
        if (op.op === 'welcome') {
          this.#attempt = 0;
          this.#setStatus('connected');
        }
        handlers.receive(op);
      },
      (code, reason) => {
        if (connection !== this.#connection) return;
        this.#connection = undefined;
        if (this.#closed) return;
        if (code !== CLOSE_SILENT) {
          this.#setStatus('closed', `the gateway closed the channel: ${code} ${reason}`);
          return;
        }
        this.#setStatus('disconnected', `${code} ${reason}`);
        const timer = setTimeout(() => this.#connect(), reconnectDelay(this.#attempt++, defaultReconnect));
        timer.unref();
      },
    );
    this.#connection = connection;
    connection.send(handlers.hello());
  }

  #setStatus(status: ChannelStatus, detail?: string): void {
    if (status === this.#status && detail === undefined) return;
    this.#status = status;
    this.#handlers?.status(status, detail);
  }
}
