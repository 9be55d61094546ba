import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentwireError, parseCommand, type CommandAnswer } from '@agentwire/protocol';
import type { Security } from '../auth/security.js';
import type { CommandRouter } from '../commands.js';
import { readJsonBody } from '../http/body.js';
import { sendError, sendJson } from '../http/respond.js';
import type { Edge } from '../edge/edge.js';

export interface HttpCommandsOptions {
  /** The gateway's router, looked up per request because the gateway lets it be replaced. */
  commands: CommandRouter;
  maxBodyBytes: number;
  security: Security;
}

/**
 * `POST /v1/commands`: the native `command` op for clients without a socket (SSE and long-polling
 * clients, scripts). The body is a protocol `Command` plus an optional `ref`; the answer is
 * `{ref, result}`, or the typed error with the registry's status, like a WebSocket `ack`/`error`.
 */
export class HttpCommands implements Edge {
  constructor(private readonly options: HttpCommandsOptions) {}

  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (url.pathname !== '/v1/commands') return false;
    this.dispatch(req, url).then(
      (body) => sendJson<CommandAnswer>(res, 200, body),
      (err: unknown) => {
        if (err instanceof AgentwireError && err.code === 'method_not_allowed')
          res.setHeader('allow', 'POST');
        sendError(res, err);
      },
    );
    return true;
  }

  private async dispatch(req: IncomingMessage, url: URL): Promise<CommandAnswer> {
    if (req.method !== 'POST') throw new AgentwireError('method_not_allowed', 'Use POST.');
    // Who is asking, before the body is read: an unauthenticated caller gets nothing buffered.
    const principal = await this.options.security.principalOf(req, url);
    const body = await readJsonBody(req, this.options.maxBodyBytes);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AgentwireError('invalid_message', 'The body must be a command object.');
    }
    const { ref, ...rest } = body as Record<string, unknown>;
    if (ref !== undefined && (typeof ref !== 'string' || ref.length < 1 || ref.length > 128)) {
      throw new AgentwireError('invalid_message', 'ref must be a string of 1 to 128 characters.', {
        path: '/ref',
      });
    }
    const command = parseCommand(rest);
    const sender =
      principal.kind === 'open'
        ? {}
        : { principal, ...(principal.subject !== undefined && { subject: principal.subject }) };
    const result = await this.options.commands.dispatch(command, sender);
    return { ...(ref !== undefined && { ref }), ...(result !== undefined && { result }) };
  }
}
