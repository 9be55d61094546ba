import type { Client, Subscription } from '@agentwire/client';
import type { AnyEnvelope, TaskState } from '@agentwire/protocol';

const WAIT_MS = 10_000;

/**
 * A watcher on a task stream through the client SDK, from its first event: what a dashboard
 * sees. `until` re-checks its condition on every event that arrives.
 */
export class Watcher {
  readonly events: AnyEnvelope[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(readonly sub: Subscription) {
    sub.onEvent((e) => {
      this.events.push(e);
      for (const check of this.waiters) check();
    });
  }

  static async open(client: Client, stream: string): Promise<Watcher> {
    const watcher = new Watcher(client.subscribe(stream, { since: { seq: 0 } }));
    await watcher.sub.ready;
    return watcher;
  }

  get state(): TaskState | undefined {
    return this.sub.state;
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  of<T extends AnyEnvelope['type']>(type: T): Extract<AnyEnvelope, { type: T }>[] {
    return this.events.filter((e): e is Extract<AnyEnvelope, { type: T }> => e.type === type);
  }

  /** Resolves once `check` holds, checked now and after every event; rejects after a while. */
  until(check: (w: Watcher) => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (check(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`timed out waiting for ${what}; saw ${this.types().join(', ')}`));
      }, timeoutMs);
      const test = () => {
        if (!check(this)) return;
        clearTimeout(timer);
        this.waiters.delete(test);
        resolve();
      };
      this.waiters.add(test);
    });
  }

  close(): void {
    this.sub.close();
  }
}
