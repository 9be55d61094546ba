import {
  AgentwireError,
  projectIdOf,
  SYSTEM_STREAM,
  taskIdOf,
  taskStream,
  type Command,
} from '@agentwire/protocol';
import type { TaskProjects } from './task-projects.js';
import { atLeast, type AuthPrincipal } from './principal.js';

const forbidden = (what: string) => new AgentwireError('forbidden', `Not allowed: ${what}.`);

/**
 * The rules (docs/security.md), in one place for every transport:
 *
 * - read (subscribe, history, snapshot, task list): a role, and the stream in scope. A stream is in
 *   scope when a `streams` pattern matches it, when it is `project:<id>` of a matching project, or
 *   when it is a task whose snapshot's `projectId` matches. `system` is for admins only.
 * - commands: operator or admin, on a stream in scope; `start` in a project in scope.
 * - publish: the publish right, on a stream in scope (a new task by the project its `task:start` names).
 * - gateway status and stats: admin.
 *
 * Refusals are `forbidden`, whether or not the stream exists, so a refusal tells nothing about
 * another project's tasks.
 */
export class AccessPolicy {
  constructor(private readonly taskProjects: TaskProjects) {}

  async mayRead(p: AuthPrincipal, stream: string): Promise<boolean> {
    if (p.role === undefined) return false;
    return this.inScope(p, stream);
  }

  /** `mayRead` from what is known without I/O; undefined when a task's owner is not known yet. */
  mayReadNow(p: AuthPrincipal, stream: string): boolean | undefined {
    if (p.role === undefined) return false;
    const quick = this.quickScope(p, stream);
    if (quick !== undefined) return quick;
    const owner = this.taskProjects.peek(stream);
    if (owner === undefined) return undefined;
    return owner !== null && typeof p.scope !== 'string' && p.scope.projects(owner);
  }

  /** `mayRead` of a task whose project is `owner` (null: none), e.g. the one an event just set. */
  mayReadOwned(p: AuthPrincipal, stream: string, owner: string | null): boolean {
    if (p.role === undefined) return false;
    const quick = this.quickScope(p, stream);
    if (quick !== undefined) return quick;
    return owner !== null && typeof p.scope !== 'string' && p.scope.projects(owner);
  }

  /** For the task list, where each row already carries its project. */
  mayReadTask(p: AuthPrincipal, stream: string, projectId: string | undefined): boolean {
    if (p.role === undefined) return false;
    const quick = this.quickScope(p, stream);
    if (quick !== undefined) return quick;
    return projectId !== undefined && typeof p.scope !== 'string' && p.scope.projects(projectId);
  }

  async assertRead(p: AuthPrincipal, stream: string): Promise<void> {
    if (!(await this.mayRead(p, stream))) throw forbidden(`reading ${stream}`);
  }

  assertAdmin(p: AuthPrincipal, what: string): void {
    if (!atLeast(p.role, 'admin')) throw forbidden(`${what} is for admins`);
  }

  async assertCommand(p: AuthPrincipal, command: Command): Promise<void> {
    if (!atLeast(p.role, 'operator')) throw forbidden(`${command.type} needs the operator role`);
    if (command.type === 'start') {
      if (!this.mayStart(p, command.projectId, command.taskId)) {
        throw forbidden(`starting a task outside your projects`);
      }
      return;
    }
    if (!(await this.inScope(p, command.stream))) throw forbidden(`${command.type} on ${command.stream}`);
  }

  /** Starting a task: in a project in scope, or as a task stream the `streams` patterns allow. */
  mayStart(p: AuthPrincipal, projectId: string | undefined, taskId: string | undefined): boolean {
    if (p.scope === 'all') return true;
    if (projectId !== undefined && p.scope.projects(projectId)) return true;
    return p.scope.streams(taskStream(taskId ?? '*'));
  }

  /**
   * Publishing `events` to `stream`. A task's owner is the project of its latest `task:start`, so a
   * batch may neither write into another project's task nor move a task into another project.
   */
  async assertPublish(p: AuthPrincipal, stream: string, events: readonly unknown[]): Promise<void> {
    if (!p.publish)
      throw forbidden('publishing needs a producer credential (an API key or the publish scope)');
    if (p.scope === 'all') return;
    const scope = p.scope;
    if (stream === SYSTEM_STREAM) throw forbidden('publishing to system');
    if (scope.streams(stream)) return;
    const project = projectIdOf(stream);
    if (project !== undefined) {
      if (scope.projects(project)) return;
      throw forbidden(`publishing to ${stream}`);
    }
    if (taskIdOf(stream) === undefined) throw forbidden(`publishing to ${stream}`);
    const owner = await this.taskProjects.owner(stream);
    if (owner !== undefined && (owner === null || !scope.projects(owner)))
      throw forbidden(`publishing to ${stream}`);
    let started = false;
    for (const raw of events) {
      const e = raw as { type?: unknown; data?: { projectId?: unknown } } | null;
      if (e?.type !== 'task:start') continue;
      started = true;
      const next = e.data?.projectId;
      if (typeof next !== 'string' || !scope.projects(next))
        throw forbidden(`starting ${stream} outside your projects`);
    }
    if (owner === undefined && !started) {
      throw forbidden(
        `publishing to ${stream}: a new task starts with a task:start naming one of your projects`,
      );
    }
  }

  /**
   * A producer taking ownership of `stream` (hello or claim on the producer channel), so commands
   * for it are routed there. A task already started must be in the producer's projects; one not
   * started yet may be claimed, since its `task:start` is checked by `assertPublish` when it comes.
   */
  async assertClaim(p: AuthPrincipal, stream: string): Promise<void> {
    const quick = this.quickScope(p, stream);
    if (quick === true) return;
    if (quick === false) throw forbidden(`claiming ${stream}`);
    const owner = await this.taskProjects.owner(stream);
    if (owner === undefined) return;
    if (owner !== null && typeof p.scope !== 'string' && p.scope.projects(owner)) return;
    throw forbidden(`claiming ${stream}`);
  }

  private async inScope(p: AuthPrincipal, stream: string): Promise<boolean> {
    const quick = this.quickScope(p, stream);
    if (quick !== undefined) return quick;
    const owner = await this.taskProjects.owner(stream);
    return typeof owner === 'string' && typeof p.scope !== 'string' && p.scope.projects(owner);
  }

  /** Everything decidable without the task's owner; undefined when only the owner can tell. */
  private quickScope(p: AuthPrincipal, stream: string): boolean | undefined {
    if (stream === SYSTEM_STREAM) return atLeast(p.role, 'admin');
    if (p.scope === 'all') return true;
    if (p.scope.streams(stream)) return true;
    const project = projectIdOf(stream);
    if (project !== undefined) return p.scope.projects(project);
    if (taskIdOf(stream) === undefined) return false;
    return undefined;
  }
}
