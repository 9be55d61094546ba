import type { GraphChunk } from './chunks.js';
import { GraphNodes, type NodeMapping } from './graph-nodes.js';
import { toJsonSafe } from './json-safe.js';
import { MessageStreams } from './message-streams.js';
import type { TaskWriter } from './task-writer.js';
import { ToolCalls } from './tool-calls.js';

/** One graph run's stream chunks turned into the task's events. */
export class GraphRun {
  readonly messages: MessageStreams;
  private readonly nodes: GraphNodes;
  private readonly tools: ToolCalls;
  /** The agent whose node raised each interrupt, by interrupt id. */
  private readonly interruptedBy = new Map<string, string | undefined>();

  constructor(
    private readonly writer: TaskWriter,
    mapping: NodeMapping | undefined,
  ) {
    this.nodes = new GraphNodes(writer, mapping);
    this.tools = new ToolCalls(writer);
    this.messages = new MessageStreams(writer, (id, agentId) => this.tools.requested(id, agentId));
  }

  handle(chunk: GraphChunk): void {
    switch (chunk.mode) {
      case 'task-start':
        this.nodes.started(chunk.ns, chunk.id, chunk.node);
        return;
      case 'task-end':
        this.messages.runEnded(chunk.id);
        // A subgraph's interrupt is reported by its node first, then by each enclosing node: the
        // innermost is the one that asks.
        for (const i of chunk.interrupts) {
          if (i.id !== undefined && !this.interruptedBy.has(i.id)) {
            this.interruptedBy.set(i.id, this.nodes.agentOfRun(chunk.id));
          }
        }
        this.nodes.finished(chunk.id, chunk.error, chunk.interrupts.length > 0);
        return;
      case 'message':
        this.messages.received(chunk.message, chunk.meta, this.nodes.agentOf(chunk.ns, chunk.meta.node));
        return;
      case 'tool':
        this.tools.received(chunk.ns, chunk.event, this.nodes.soleAgentIn(chunk.ns));
        return;
      case 'custom':
        this.writer.emit('custom:event', { name: 'langgraph:custom', payload: toJsonSafe(chunk.payload) });
        return;
      default:
        return;
    }
  }

  /** The agent whose node raised an interrupt, for the question's `agentId`. */
  agentOfInterrupt(interruptId: string | undefined): string | undefined {
    return interruptId === undefined ? undefined : this.interruptedBy.get(interruptId);
  }

  /** The graph finished: messages end, node agents complete. */
  finished(): void {
    this.messages.endAll();
    this.nodes.completeAll();
  }
}
