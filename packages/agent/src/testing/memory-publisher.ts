import { parseEventInput, type AnyEnvelope, type AnyEventInput } from '@agentwire/protocol';
import type { PublishResult, Publisher } from '../publisher.js';

/**
 * A real, minimal in-process log for tests: validates like the gateway, dedupes by id, assigns
 * gapless seqs per stream. `before` runs ahead of each publish, to inject failures.
 */
export class MemoryPublisher implements Publisher {
  readonly epoch = 'test-epoch';
  readonly envelopes: AnyEnvelope[] = [];
  readonly batches: { stream: string; ids: string[] }[] = [];
  before?: (stream: string, events: AnyEventInput[]) => void | Promise<void>;
  private readonly seqs = new Map<string, number>();
  private readonly byId = new Map<string, number>();

  async publish(stream: string, events: AnyEventInput[]): Promise<PublishResult> {
    await this.before?.(stream, events);
    this.batches.push({ stream, ids: events.map((e) => e.id ?? '') });
    const valid = events.map((e) => parseEventInput(e));
    const results = valid.map((e) => {
      const key = `${stream}\u0000${e.id}`;
      const prior = e.id === undefined ? undefined : this.byId.get(key);
      if (prior !== undefined) return { id: e.id!, seq: prior, duplicate: true };
      const seq = (this.seqs.get(stream) ?? 0) + 1;
      this.seqs.set(stream, seq);
      const id = e.id ?? `gen-${stream}-${seq}`;
      this.byId.set(key, seq);
      this.envelopes.push({
        stream,
        seq,
        epoch: this.epoch,
        id,
        time: Date.now(),
        type: e.type,
        data: e.data,
        ...(e.trace && { trace: e.trace }),
      } as AnyEnvelope);
      return { id, seq, duplicate: false };
    });
    return { stream, epoch: this.epoch, results };
  }

  stream(name: string): AnyEnvelope[] {
    return this.envelopes.filter((e) => e.stream === name);
  }

  types(name: string): string[] {
    return this.stream(name).map((e) => e.type);
  }
}
