import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentwireError } from '@agentwire/protocol';
import type { Security } from '../../auth/security.js';
import type { Edge } from '../../edge/edge.js';
import { sendError, sendJson } from '../../http/respond.js';
import type { SocketIoTransport } from '../socketio/socketio.js';

const STATUS_PATH = '/api/websocket/status';

/**
 * Seed 003's `GET /api/websocket/status`: its dashboard's connection count and room sizes, served
 * while a Socket.IO path speaks the flask-dashboard dialect.
 */
export class FlaskDashboardStatus implements Edge {
  private readonly served: boolean;

  constructor(
    private readonly socketio: SocketIoTransport,
    private readonly security: Security,
  ) {
    this.served = socketio.paths.some((p) => p.dialect === 'flask-dashboard');
  }

  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (!this.served || url.pathname !== STATUS_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, new AgentwireError('method_not_allowed'));
      return true;
    }
    // Connection counts and rooms describe everyone's activity: admins only (docs/security.md).
    const { security } = this;
    security
      .principalOf(req, url)
      .then((p) => {
        security.access.assertAdmin(p, 'the WebSocket status');
        sendJson(res, 200, this.socketio.status());
      })
      .catch((err: unknown) => sendError(res, err));
    return true;
  }
}
