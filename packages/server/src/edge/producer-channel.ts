import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentwireError, PRODUCER_PATH } from '@agentwire/protocol';
import type { Security } from '../auth/security.js';
import { refuseUpgrade } from '../http/refuse-upgrade.js';
import type { ProducerEndpoint } from '../producers/ws-endpoint.js';
import type { Edge } from './edge.js';

/**
 * The producer channel's door (`/v1/producer`): producers authenticate here with an API key or a
 * token with the publish scope, separately from watchers, before the endpoint takes the socket.
 */
export class ProducerChannelEdge implements Edge {
  constructor(
    private readonly endpoint: ProducerEndpoint,
    private readonly security: Security,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    if (url.pathname !== PRODUCER_PATH) return false;
    const { security } = this;
    security
      .authenticate(security.credentialOf(req, url))
      .then((p) => {
        if (!p.publish)
          throw new AgentwireError('forbidden', 'The producer channel needs a producer credential.');
        this.endpoint.handleUpgrade(req, socket, head, security.producerCredential(p));
      })
      .catch((err: unknown) => refuseUpgrade(socket, err));
    return true;
  }
}
