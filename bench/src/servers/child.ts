import { runOpenLoop, streamNames, type PublishFn, type StreamSet } from './driver.js';

/** Commands the controller sends a server process over IPC; each is answered `{ id, result | error }`. */
export type ServerCommand =
  | { cmd: 'run'; streams: StreamSet; rate: number; durationMs: number }
  /** Token deltas (`tokens` scenario): `rate` in all, round-robin over the task streams. */
  | { cmd: 'tokens'; streams: StreamSet; rate: number; durationMs: number }
  | { cmd: 'burst'; streams: StreamSet; perStream: number }
  | { cmd: 'gc' }
  | { cmd: 'stats' }
  | {
      cmd: 'ingest';
      mode: 'rate' | 'saturate';
      streams: StreamSet;
      rate: number;
      window: number;
      durationMs: number;
    }
  | { cmd: 'exit' };

export interface ServerHooks {
  publish: PublishFn;
  /** Most events `publish` takes at once; 1 for servers that have no batch API. */
  maxGroup?: number;
  /** Publishes `perStream` events to every stream and resolves once all of them are out. */
  burst(streams: string[], perStream: number): Promise<void>;
  /** Connected clients as the server counts them. */
  connections(): number | Promise<number>;
  ingest?(command: Extract<ServerCommand, { cmd: 'ingest' }>): Promise<unknown>;
  /** Publishes one token delta per stamp to `stream` (the `tokens` scenario). */
  tokens?: PublishFn;
  /** The most bytes the server holds for any one subscriber (unsent, or held back). */
  heldBytes?(): number;
  close(): Promise<void>;
}

declare const gc: (() => void) | undefined;

/** Runs a server process: reports its port, then serves the controller's commands until told to exit. */
export function serveController(port: number, hooks: ServerHooks): void {
  const send = (msg: unknown): void => {
    process.send?.(msg);
  };
  process.on('message', (msg: ServerCommand & { id: number }) => {
    handle(msg).then(
      (result) => send({ id: msg.id, result }),
      (err: unknown) => send({ id: msg.id, error: err instanceof Error ? err.stack : String(err) }),
    );
  });
  process.on('disconnect', () => {
    void hooks.close().finally(() => process.exit(0));
  });
  send({ ready: true, port });

  async function handle(msg: ServerCommand): Promise<unknown> {
    switch (msg.cmd) {
      case 'run':
        return runOpenLoop(streamNames(msg.streams), msg.rate, msg.durationMs, hooks.publish, hooks.maxGroup);
      case 'tokens':
        if (!hooks.tokens) throw new Error('This server has no token streams.');
        return runOpenLoop(streamNames(msg.streams), msg.rate, msg.durationMs, hooks.tokens, 1);
      case 'burst':
        await hooks.burst(streamNames(msg.streams), msg.perStream);
        return {};
      case 'gc':
        // Twice: the first pass can leave work for finalizers that the second one collects.
        if (typeof gc === 'function') {
          gc();
          await new Promise((resolve) => setImmediate(resolve));
          gc();
        }
        return process.memoryUsage();
      case 'stats':
        return {
          connections: await hooks.connections(),
          memory: process.memoryUsage(),
          heldBytes: hooks.heldBytes?.() ?? 0,
        };
      case 'ingest':
        if (!hooks.ingest) throw new Error('This server has no ingest.');
        return hooks.ingest(msg);
      case 'exit':
        await hooks.close();
        setImmediate(() => process.exit(0));
        return {};
    }
  }
}
