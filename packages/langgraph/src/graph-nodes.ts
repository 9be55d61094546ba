import { randomUUID } from 'node:crypto';
import { nodePath } from './chunks.js';
import { toErrorInfo } from './error-info.js';
import type { TaskWriter } from './task-writer.js';

/** What a graph node is to watchers: an agent, a stage of the task, or neither. */
export type NodeRole = 'agent' | 'stage' | 'none';

/**
 * How graph nodes show up. `'agents'`: every node is an agent (a subgraph's nodes are children of
 * the node that runs the subgraph). `'stages'`: the root graph's nodes are the task's stages
 * (`task:stage`), nested nodes are neither. Or decide per node; `namespace` holds the names of the
 * nodes whose subgraphs contain it (empty in the root graph).
 */
export type NodeMapping = 'agents' | 'stages' | ((node: string, namespace: readonly string[]) => NodeRole);

interface Agent {
  id: string;
  failed: boolean;
}

interface Running {
  key: string;
  path: string[];
}

/**
 * Node runs as the tasks stream reports them (`streamMode: "tasks"`): one agent per node (per
 * subgraph position), spawned on its first run; stages as root nodes start.
 */
export class GraphNodes {
  private readonly agents = new Map<string, Agent>();
  private readonly running = new Map<string, Running>();
  private readonly roleOf: (node: string, namespace: readonly string[]) => NodeRole;

  constructor(
    private readonly writer: TaskWriter,
    mapping: NodeMapping = 'agents',
  ) {
    this.roleOf =
      mapping === 'agents'
        ? () => 'agent'
        : mapping === 'stages'
          ? (_node, namespace) => (namespace.length === 0 ? 'stage' : 'none')
          : mapping;
  }

  started(ns: readonly string[], taskId: string, node: string): void {
    if (isInternal(node)) return;
    const path = nodePath(ns);
    const key = keyOf(path, node);
    this.running.set(taskId, { key, path });
    const role = this.roleOf(node, path);
    if (role === 'stage') {
      this.writer.emit('task:stage', { stage: node });
      return;
    }
    if (role !== 'agent') return;
    const known = this.agents.get(key);
    if (known) {
      this.writer.emit('agent:progress', { agentId: known.id, status: 'running' });
      return;
    }
    const agent: Agent = { id: randomUUID(), failed: false };
    this.agents.set(key, agent);
    const parent = path.length === 0 ? undefined : this.agents.get(keyOf(path.slice(0, -1), path.at(-1)!));
    this.writer.emit('agent:spawned', { agentId: agent.id, name: node, parentId: parent?.id });
  }

  finished(taskId: string, error: unknown, interrupted: boolean): void {
    const run = this.running.get(taskId);
    if (!run) return;
    this.running.delete(taskId);
    const agent = this.agents.get(run.key);
    if (!agent) return;
    if (error !== undefined) {
      agent.failed = true;
      this.writer.emit('agent:failed', { agentId: agent.id, error: toErrorInfo(error) });
    } else if (interrupted) {
      this.writer.emit('agent:progress', {
        agentId: agent.id,
        status: 'waiting',
        activity: 'waiting for an answer',
      });
    } else {
      this.writer.emit('agent:progress', { agentId: agent.id, status: 'idle' });
    }
  }

  /** The agent of the node that runs in `ns` as `node`, if that node is an agent. */
  agentOf(ns: readonly string[], node: string | undefined): string | undefined {
    if (node === undefined) return undefined;
    return this.agents.get(keyOf(nodePath(ns), node))?.id;
  }

  /** The agent of a node run, by the run's task id. */
  agentOfRun(taskId: string): string | undefined {
    const run = this.running.get(taskId);
    return run && this.agents.get(run.key)?.id;
  }

  /** The agent running in `ns` when exactly one node runs there; tools started by node code land here. */
  soleAgentIn(ns: readonly string[]): string | undefined {
    const path = nodePath(ns).join('/');
    const here = [...this.running.values()].filter((r) => r.path.join('/') === path);
    return here.length === 1 ? this.agents.get(here[0]!.key)?.id : undefined;
  }

  /** The graph finished: every node agent that did not fail completes. */
  completeAll(): void {
    for (const agent of this.agents.values()) {
      if (!agent.failed) this.writer.emit('agent:complete', { agentId: agent.id });
    }
  }
}

function keyOf(path: readonly string[], node: string): string {
  return [...path, node].join('/');
}

/** LangGraph's own bookkeeping nodes (`__start__`, `__end__`). */
function isInternal(node: string): boolean {
  return node.startsWith('__') && node.endsWith('__');
}
