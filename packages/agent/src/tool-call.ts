import type { Outbox } from './outbox.js';
import { toErrorInfo } from './error-info.js';

/** One tool invocation: opened by `tool:executing`, closed by `tool:complete` or `tool:failed`. */
export class ToolCall {
  private readonly startedAt = performance.now();

  /** @internal */
  constructor(
    private readonly outbox: Outbox,
    private readonly stream: string,
    readonly id: string,
    readonly tool: string,
    readonly agentId: string,
    readonly attempt: number | undefined,
  ) {}

  /** Milliseconds since the call was opened. */
  elapsedMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  complete(result?: unknown): Promise<number> {
    return this.outbox.publish(this.stream, 'tool:complete', {
      callId: this.id,
      tool: this.tool,
      agentId: this.agentId,
      durationMs: this.elapsedMs(),
      result,
    });
  }

  fail(error: unknown, options: { retryable?: boolean } = {}): Promise<number> {
    return this.outbox.publish(this.stream, 'tool:failed', {
      callId: this.id,
      tool: this.tool,
      agentId: this.agentId,
      error: toErrorInfo(error),
      durationMs: this.elapsedMs(),
      retryable: options.retryable,
    });
  }
}
