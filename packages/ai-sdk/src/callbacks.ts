import type { GenerateTextStepEndEvent, ToolExecutionEndEvent, ToolExecutionStartEvent } from 'ai';
import type { Run } from './run.js';

type Callback<E> = ((event: E) => PromiseLike<void> | void) | undefined;

/** The lifecycle callbacks generateText, streamText and agents share, each beside its deprecated alias. */
export interface LifecycleCallbacks {
  onStepStart?: Callback<never>;
  experimental_onStepStart?: Callback<never>;
  onToolExecutionStart?: Callback<never>;
  experimental_onToolCallStart?: Callback<never>;
  onToolExecutionEnd?: Callback<never>;
  experimental_onToolCallFinish?: Callback<never>;
  onStepEnd?: Callback<never>;
  onStepFinish?: Callback<never>;
}

/**
 * The caller's lifecycle callbacks with the run's in front. The SDK takes a deprecated alias only
 * when the current name is absent, so the alias the caller used is folded into the current name.
 * `streaming`: the text and reasoning come from the stream as it flows, not from the step's end.
 */
export function withRunCallbacks(run: Run, given: LifecycleCallbacks, streaming: boolean) {
  return {
    onStepStart: chain(() => run.stepStarted(), given.onStepStart ?? given.experimental_onStepStart),
    experimental_onStepStart: undefined,
    onToolExecutionStart: chain(
      (e: ToolExecutionStartEvent) => run.toolStarted(e.toolCall),
      given.onToolExecutionStart ?? given.experimental_onToolCallStart,
    ),
    experimental_onToolCallStart: undefined,
    onToolExecutionEnd: chain(
      (e: ToolExecutionEndEvent) => run.toolEnded(e.toolCall, e.toolOutput, e.toolExecutionMs),
      given.onToolExecutionEnd ?? given.experimental_onToolCallFinish,
    ),
    experimental_onToolCallFinish: undefined,
    onStepEnd: chain((e: GenerateTextStepEndEvent) => {
      if (!streaming) {
        for (const part of e.content) {
          if (part.type === 'text') run.message(part.text);
          else if (part.type === 'reasoning') run.reasoning(part.text);
        }
      }
      run.stepEnded(e.finishReason, e.usage);
    }, given.onStepEnd ?? given.onStepFinish),
    onStepFinish: undefined,
  };
}

function chain<E>(ours: (event: E) => void, theirs: Callback<never>): (event: E) => PromiseLike<void> | void {
  return (event) => {
    try {
      ours(event);
    } catch {
      // Publishing never stops the model call; failures reach the producer's onError.
    }
    return (theirs as Callback<E>)?.(event);
  };
}
