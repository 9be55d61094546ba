import type { TextStreamPart, ToolSet } from 'ai';
import { errorText } from './errors.js';
import { settle, type Run } from './run.js';

// How many token deltas may wait for the gateway before the stream waits for them: enough to batch,
// few enough that a slow gateway slows the stream rather than growing memory without bound.
const DELTA_WINDOW = 64;

/**
 * Watches a streaming call's parts on their way to the caller (as the last `experimental_transform`)
 * and publishes the live ones: token deltas as a message per text block, reasoning per block,
 * provider errors, and the end of the run. Parts pass through unchanged; the stream closes only once
 * the run's end is stored, so a caller that has read the whole stream finds the task up to date.
 */
export class StreamObserver {
  /** The last error the stream carried: the cause when the call then fails. */
  lastError: unknown;
  private readonly inFlight: Promise<void>[] = [];
  private readonly reasoning = new Map<string, string>();
  private steps = 0;
  private stepText = '';

  constructor(private readonly run: Run) {}

  /** The transform factory, for the SDK's `experimental_transform`. */
  readonly transform = <TOOLS extends ToolSet>(): TransformStream<
    TextStreamPart<TOOLS>,
    TextStreamPart<TOOLS>
  > =>
    new TransformStream({
      transform: async (part, controller) => {
        controller.enqueue(part);
        await this.observe(part);
      },
      flush: async () => {
        await Promise.all(this.inFlight);
      },
    });

  private async observe<TOOLS extends ToolSet>(part: TextStreamPart<TOOLS>): Promise<void> {
    switch (part.type) {
      case 'start-step':
        this.steps += 1;
        this.stepText = '';
        return;
      case 'finish':
        await Promise.all(this.inFlight);
        await settle(
          this.run,
          { text: this.stepText, finishReason: part.finishReason, usage: part.totalUsage, steps: this.steps },
          this.lastError,
        );
        return;
      case 'text-start':
        this.run.startMessage(part.id);
        return;
      case 'text-delta':
        this.stepText += part.text;
        this.inFlight.push(this.run.delta(part.id, part.text));
        if (this.inFlight.length > DELTA_WINDOW) await this.inFlight.shift();
        return;
      case 'text-end':
        this.run.endMessage(part.id);
        return;
      case 'reasoning-start':
        this.reasoning.set(part.id, '');
        return;
      case 'reasoning-delta':
        this.reasoning.set(part.id, (this.reasoning.get(part.id) ?? '') + part.text);
        return;
      case 'reasoning-end':
        this.run.reasoning(this.reasoning.get(part.id) ?? '');
        this.reasoning.delete(part.id);
        return;
      case 'error':
        this.lastError = part.error;
        this.run.warn(`The model reported an error: ${errorText(part.error)}`);
        return;
      case 'tool-approval-request':
        // Approvals this adapter answers arrive already decided (isAutomatic); one that is not was
        // left to the stream's consumer, as the SDK does for an agent's stream.
        if (!part.isAutomatic) {
          this.run.warn(`${part.toolCall.toolName} waits for approval from the caller.`, {
            toolCallId: part.toolCall.toolCallId,
            approvalId: part.approvalId,
          });
        }
        return;
      default:
        return;
    }
  }
}
