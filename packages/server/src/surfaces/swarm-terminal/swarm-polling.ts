import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentwireError, projectIdOf, taskIdOf } from '@agentwire/protocol';
import type { AuthPrincipal } from '../../auth/principal.js';
import type { Security } from '../../auth/security.js';
import type { Limits } from '../../limits/limits.js';
import {
  swarmProjectSnapshot,
  swarmSnapshot,
  swarmStreamFor,
  swarmStreamMessages,
  taskStreamsOf,
  type SwarmMessage,
} from './swarm-dialect.js';
import { sendError, sendJson } from '../../http/respond.js';
import type { LogEngine } from '../../log/engine.js';
import type { Logger } from '../../logger.js';
import type { SnapshotService } from '../../snapshots.js';
import type { TaskIndex } from '../../task-list/task-index.js';
import { liveProjectStates, statesOf } from './swarm-states.js';
import { countParam, seqParam } from '../../transports/http-params.js';
import { acceptAnyToken, type TokenVerifier } from '../../auth/dialect-token.js';
import type { Edge } from '../../edge/edge.js';

export interface SwarmPollingOptions {
  engine: LogEngine;
  snapshots: SnapshotService;
  limits: Limits;
  logger: Logger;
  streamTemplate: string;
  verifyToken?: TokenVerifier;
  security: Security;
  taskIndex: TaskIndex;
}

/** Under the `/v1/public/agent-swarms/…` REST prefix seed 004's AgentSwarmService already calls. */
export const SWARM_POLL_PATH = /^\/v1\/public\/agent-swarms\/([^/]+)\/messages\/?$/;

const DEFAULT_LIMIT = 200;

/**
 * Seed 004's HTTP fallback: `GET /v1/public/agent-swarms/{projectId}/messages?after=<seq>` answers
 * the same messages the WebSocket sends, read from the log, so a poller that passes back `next`
 * sees every message once. Without `after` (or when `after` is outside the retained history or
 * `epoch` changed) it answers the snapshot messages and `reset: true`. Stateless: any node can
 * answer any poll.
 */
export class SwarmPolling implements Edge {
  constructor(private readonly options: SwarmPollingOptions) {}

  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const match = SWARM_POLL_PATH.exec(url.pathname);
    if (!match) return false;
    // The terminal's page is usually served from another origin than the gateway's port; the
    // gateway has already refused origins that are not allowed (docs/security.md).
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return true;
    }
    this.serve(req, res, url, match[1]!).catch((err: unknown) => {
      if (!(err instanceof AgentwireError)) this.options.logger.error({ err }, 'swarm polling failed');
      sendError(res, err);
    });
    return true;
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL, rawId: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new AgentwireError('method_not_allowed');
    const { engine, snapshots, limits, verifyToken = acceptAnyToken } = this.options;
    let projectId: string;
    try {
      projectId = decodeURIComponent(rawId);
    } catch {
      throw new AgentwireError('invalid_stream', 'The project id is not valid percent-encoding.');
    }
    const stream = swarmStreamFor(this.options.streamTemplate, projectId);
    const { security } = this.options;
    const principal = await verifyToken(security.credentialOf(req, url), {
      transport: 'http',
      dialect: 'swarm-terminal',
      path: url.pathname,
    });
    if (security.enabled) await security.access.assertRead(principal as AuthPrincipal, stream);
    const after = seqParam(url, 'after');
    const limit = countParam(url, 'limit', Math.min(DEFAULT_LIMIT, limits.maxReadLimit), limits.maxReadLimit);
    const epoch = url.searchParams.get('epoch');
    const head = await engine.head(stream);
    const project = projectIdOf(stream);
    const reset =
      after === undefined ||
      (epoch !== null && epoch !== head.epoch) ||
      after < head.first - 1 ||
      after > head.head;

    let messages: SwarmMessage[];
    let next: number;
    let status: string;
    let more = false;
    if (reset && project !== undefined) {
      // A project: its live tasks as they are now, then everything after the stream's head.
      const live = await liveProjectStates(this.options.taskIndex, snapshots, project);
      next = head.head;
      messages = swarmProjectSnapshot(live, projectId, next);
      status = live.length > 0 ? 'running' : 'idle';
    } else if (reset) {
      const snap = await snapshots.get(stream);
      messages = swarmSnapshot(snap.state, projectId);
      next = snap.seq;
      status = snap.state?.status ?? 'pending';
    } else {
      const read = await engine.read(stream, after, limit);
      // A move out of the caller's projects committed during the read ends what it gets there.
      if (security.enabled)
        read.events = read.events.slice(
          0,
          security.readableRun(principal as AuthPrincipal, stream, read.events),
        );
      const streams = taskStreamsOf(read.events);
      if (taskIdOf(stream) !== undefined) streams.add(stream);
      const states = await statesOf(snapshots, streams);
      messages = swarmStreamMessages(read.events, states, projectId);
      next = read.events.length > 0 ? read.events[read.events.length - 1]!.seq : after;
      more = next < read.head;
      status =
        project !== undefined
          ? (await liveProjectStates(this.options.taskIndex, snapshots, project, 1)).length > 0
            ? 'running'
            : 'idle'
          : (states.get(stream)?.status ?? 'pending');
    }
    sendJson(res, 200, {
      projectId,
      stream,
      epoch: head.epoch,
      after: after ?? null,
      next,
      reset,
      more,
      status,
      messages,
    });
  }
}
