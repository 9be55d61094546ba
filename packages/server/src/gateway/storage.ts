import { hostname } from 'node:os';
import { Security } from '../auth/security.js';
import { TaskProjects } from '../auth/task-projects.js';
import { ConfigError } from '../config-error.js';
import { DeliveryMetrics } from '../delivery-metrics.js';
import type { GatewayOptions } from '../gateway-options.js';
import { Hub, defaultHubRecent } from '../hub/hub.js';
import { Ingest } from '../ingest.js';
import type { Limits } from '../limits/limits.js';
import type { LogEngine } from '../log/engine.js';
import { openEngine, type EngineConfig } from '../log/open.js';
import type { Logger } from '../logger.js';
import { ProjectFeed } from '../projects/project-feed.js';
import { SnapshotService } from '../snapshots.js';
import { TaskIndex } from '../task-list/task-index.js';
import { TaskWatches } from '../task-list/task-watches.js';

/** The first phase: the log, what is derived from it, the access rules, and the hub on top. */
export interface Storage {
  config: EngineConfig;
  engine: LogEngine;
  snapshots: SnapshotService;
  taskProjects: TaskProjects;
  security: Security;
  hub: Hub;
  projectFeed: ProjectFeed | undefined;
  ingest: Ingest;
  taskIndex: TaskIndex;
  taskWatches: TaskWatches;
  /** Least time between two looks at the task list for one watch, in ms. */
  taskListIntervalMs: number;
  delivery: DeliveryMetrics;
}

export async function openStorage(options: GatewayOptions, logger: Logger, limits: Limits): Promise<Storage> {
  // Checked before anything opens, so a bad setting leaves nothing to close.
  const publicUrl = options.publicUrl === undefined ? undefined : parsePublicUrl(options.publicUrl);
  const config = options.engine ?? { kind: 'memory' };
  const engine = await openEngine(config, {
    onConnectionError: (err) => logger.warn({ err: err.message }, 'log storage connection error'),
  });
  const snapshots = new SnapshotService(engine);
  // Before the hub, so a task's project is known by the time its events are fanned out.
  const taskProjects = new TaskProjects(engine, snapshots);
  const security = new Security({
    auth: options.auth,
    allowedOrigins: options.allowedOrigins,
    // Names nobody but the machine's own configuration controls are served without being listed.
    allowedHosts: [
      ...(options.allowedHosts ?? []),
      ...(options.host === undefined ? [] : [options.host]),
      hostname(),
    ],
    ...(publicUrl !== undefined && { publicUrl }),
    limits,
    taskProjects,
    logger,
  });
  const hub = new Hub(
    engine,
    snapshots,
    limits.maxBufferedBytes,
    { ...defaultHubRecent, ...options.recentEvents },
    typeof options.coalesce === 'object' ? options.coalesce : { enabled: options.coalesce !== false },
    // Every subscription on every transport and dialect passes these checks (docs/security.md); a
    // task that moves to another project leaves the subscribers who may not follow it there.
    security.enabled
      ? {
          guard: security.guardRead,
          patternFilter: security.filterPattern,
          visibleRun: security.visibleRun,
        }
      : {},
  );
  // Each task's events also go to its project's stream, before the producer is answered.
  const projectFeed =
    options.projectStreams === false ? undefined : new ProjectFeed(engine, taskProjects, logger);
  const ingest = new Ingest(
    engine,
    limits.maxEventsPerBatch,
    projectFeed && ((s, b) => projectFeed.copy(s, b)),
  );
  // The task list (GET /v1/tasks, watch_tasks), built on first use and then kept current.
  const taskListIntervalMs = options.taskList?.intervalMs ?? 250;
  const taskIndex = new TaskIndex(engine, snapshots, logger, {
    maxTasks: options.taskList?.maxTasks ?? 100_000,
  });
  const taskWatches = new TaskWatches(
    taskIndex,
    { intervalMs: taskListIntervalMs, maxBufferedBytes: limits.maxBufferedBytes },
    logger,
  );
  // After the hub, so its latency samples include the fan-out (the system view charts them).
  const delivery = new DeliveryMetrics(engine, config.kind === 'sqlite' ? config.path : undefined);
  return {
    config,
    engine,
    snapshots,
    taskProjects,
    security,
    hub,
    projectFeed,
    ingest,
    taskIndex,
    taskWatches,
    taskListIntervalMs,
    delivery,
  };
}

function parsePublicUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // refused below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new ConfigError(`publicUrl must be an http(s) URL; got ${value.slice(0, 100)}.`);
  return url.origin;
}
