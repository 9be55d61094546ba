import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer in front of several server nodes, as a deployment would have: each new
 * client connection goes to the next node round robin, and to the one after when a node refuses
 * (it is dead). Clients reconnecting after a node dies thus land on a survivor, whatever their
 * client library does on reconnect.
 */
export class Balancer {
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly ports: number[],
  ) {
    server.on('connection', (client) => this.route(client, 0));
  }

  static async start(ports: number[]): Promise<Balancer> {
    const server = createServer();
    await new Promise<void>((resolve) =>
      server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve),
    );
    return new Balancer(server, ports);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  private route(client: Socket, tried: number): void {
    if (tried >= this.ports.length) {
      client.destroy();
      return;
    }
    const port = this.ports[this.next++ % this.ports.length]!;
    client.pause();
    const upstream = connect({ host: '127.0.0.1', port });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      client.resume();
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.once('close', end).on('error', end);
      upstream.once('close', end).on('error', end);
    });
    upstream.once('error', () => {
      if (!connected) this.route(client, tried + 1);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
