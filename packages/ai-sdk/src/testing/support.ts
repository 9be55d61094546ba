import { createClient, type Client, type Subscription } from '@agentwire/client';
import type { AnyEnvelope, EventType } from '@agentwire/protocol';
import { createGateway, type Gateway } from '@agentwire/server';
import { MockLanguageModelV4, simulateReadableStream } from 'ai/test';

type DoStream = NonNullable<NonNullable<ConstructorParameters<typeof MockLanguageModelV4>[0]>['doStream']>;
type StreamResult = Extract<DoStream, { stream: unknown }>;
export type Part = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;
type DoGenerate = NonNullable<
  NonNullable<ConstructorParameters<typeof MockLanguageModelV4>[0]>['doGenerate']
>;
type GenerateResult = Extract<DoGenerate, { content: unknown }>;
type Content = GenerateResult['content'][number];

/** A real gateway on a free port, in memory. */
export function startGateway(): Promise<Gateway> {
  return createGateway({ port: 0, logLevel: 'silent' });
}

/** Everything the gateway's log holds for a stream, in order. */
export async function stored(gateway: Gateway, stream: string): Promise<AnyEnvelope[]> {
  return (await gateway.engine.read(stream, 0, 10_000)).events;
}

export function usage(input: number, output: number, reasoning = 0) {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output - reasoning, reasoning },
  };
}

export function text(id: string, ...deltas: string[]): Part[] {
  return [
    { type: 'text-start', id },
    ...deltas.map((delta) => ({ type: 'text-delta' as const, id, delta })),
    { type: 'text-end', id },
  ];
}

export function reasoning(id: string, ...deltas: string[]): Part[] {
  return [
    { type: 'reasoning-start', id },
    ...deltas.map((delta) => ({ type: 'reasoning-delta' as const, id, delta })),
    { type: 'reasoning-end', id },
  ];
}

export function toolCall(toolCallId: string, toolName: string, input: unknown): Part {
  return { type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) };
}

export function finish(reason: 'stop' | 'tool-calls', input = 10, output = 5): Part {
  return { type: 'finish', usage: usage(input, output), finishReason: { unified: reason, raw: reason } };
}

/** One model call's stream, from the SDK's own test helper. */
export function step(...parts: (Part | Part[])[]): StreamResult {
  return { stream: simulateReadableStream({ chunks: parts.flat() }) };
}

/** One model call's whole answer, for generateText. */
export function answer(
  content: Content[],
  reason: 'stop' | 'tool-calls' = 'stop',
  input = 10,
  output = 5,
): GenerateResult {
  return {
    content,
    finishReason: { unified: reason, raw: reason },
    usage: usage(input, output),
    warnings: [],
  };
}

/**
 * A model stream the test feeds by hand, to act (cancel, answer) at a known point of a call; it
 * records whether the SDK cancelled it.
 */
export class ManualStream {
  cancelled = false;
  private controller!: ReadableStreamDefaultController<Part>;
  readonly result: StreamResult;

  constructor() {
    const stream = new ReadableStream<Part>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        this.cancelled = true;
      },
    });
    this.result = { stream };
  }

  push(...parts: (Part | Part[])[]): void {
    for (const part of parts.flat()) this.controller.enqueue(part);
  }
}

/** A watcher through the client SDK: every event of one stream from its start, and its commands. */
export class Watcher {
  readonly events: AnyEnvelope[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly client: Client,
    readonly sub: Subscription,
  ) {
    sub.onEvent((e) => {
      this.events.push(e);
      for (const wake of [...this.waiters]) wake();
    });
  }

  static async open(url: string, stream: string): Promise<Watcher> {
    const client = createClient({ url });
    const watcher = new Watcher(client, client.subscribe(stream, { since: { seq: 0 } }));
    await watcher.sub.ready;
    return watcher;
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  /** Resolves with the first event of `type` matching `match`, waiting for it if need be. */
  async next<T extends EventType>(
    type: T,
    match: (e: Extract<AnyEnvelope, { type: T }>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<Extract<AnyEnvelope, { type: T }>> {
    const find = () =>
      this.events.find((e): e is Extract<AnyEnvelope, { type: T }> => e.type === type && match(e as never));
    const found = find();
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`no ${type} within ${timeoutMs} ms; saw ${this.types().join(', ')}`));
      }, timeoutMs);
      const check = () => {
        const e = find();
        if (!e) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(e);
      };
      this.waiters.push(check);
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
