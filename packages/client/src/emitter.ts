/**
 * A typed event emitter small enough for browsers (no Node `events`). `M` maps each event name to
 * its listener's argument tuple, so a misspelt event name or a wrong payload fails to compile.
 */
export type Listener<A extends unknown[]> = (...args: A) => void;

export class Emitter<M extends { [K in keyof M]: unknown[] }> {
  // Listeners of different events have different signatures; `on`/`emit` keep them paired by key.
  readonly #listeners = new Map<keyof M, Set<unknown>>();

  /** Adds a listener; the returned function removes it. */
  on<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof M>(event: K, listener: Listener<M[K]>): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) this.#listeners.delete(event);
  }

  has(event: keyof M): boolean {
    return this.#listeners.has(event);
  }

  emit<K extends keyof M>(event: K, ...args: M[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    // A copy, so listeners may add or remove listeners while being called.
    for (const listener of [...set]) {
      try {
        (listener as Listener<M[K]>)(...args);
      } catch (err) {
        // A throwing listener must not leave the client half way through a frame (position moved,
        // state not), so the error is reported on its own turn instead of unwinding through us.
        reportListenerError(err);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

function reportListenerError(err: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(err);
  else
    queueMicrotask(() => {
      throw err;
    });
}
