import { AgentwireError, parseJson } from '@agentwire/protocol';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Largest single SSE message accepted from an AG-UI agent, in characters. */
export const MAX_AGUI_MESSAGE_CHARS = 10 * 1024 * 1024;

/**
 * The JSON value of each message of a `text/event-stream` body (an AG-UI agent's response), in
 * order. Comments and heartbeats are skipped; data that is not JSON ends the stream with `bad_json`.
 */
export async function* sseJson(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown, void, undefined> {
  const ready: EventSourceMessage[] = [];
  let failure: Error | undefined;
  const parser = createParser({
    onEvent: (message) => ready.push(message),
    onError: (err) => {
      if (err.type === 'max-buffer-size-exceeded') {
        failure = new AgentwireError('payload_too_large', 'An AG-UI event exceeds the size limit.');
      }
    },
    maxBufferSize: MAX_AGUI_MESSAGE_CHARS,
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      if (done) parser.reset({ consume: true });
      if (failure) throw failure;
      while (ready.length > 0) {
        const message = ready.shift()!;
        if (message.data === '') continue;
        yield parseJson(message.data);
      }
      if (done) return;
    }
  } finally {
    // Stopping early (a cancel, an error) releases the connection instead of reading it to the end.
    await reader.cancel().catch(() => undefined);
  }
}
