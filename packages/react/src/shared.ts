import type { Client, Subscription } from '@agentwire/client';

/**
 * A client holds one subscription per stream, but many components may watch the same stream (a
 * task view and its terminal, two cards of one task). The hooks share one subscription per client
 * and stream, counted by its users, and close it only when the last one lets go.
 */
interface Entry {
  sub: Subscription;
  users: number;
  closeTimer: ReturnType<typeof setTimeout> | undefined;
}

const registries = new WeakMap<Client, Map<string, Entry>>();

/**
 * How long an unused subscription stays open. A route change often unmounts one watcher of a
 * stream and mounts the next right after (and React's StrictMode does it on purpose); keeping the
 * subscription for a moment spares the gateway an unsubscribe/subscribe pair and keeps the state.
 */
const LINGER_MS = 1_000;

/** Takes a share of `client`'s subscription to `stream`, subscribing on first use. */
export function acquire(client: Client, stream: string): { sub: Subscription; release: () => void } {
  let registry = registries.get(client);
  if (!registry) registries.set(client, (registry = new Map()));
  let entry = registry.get(stream);
  if (!entry || entry.sub.closed) {
    // Defaults only: the snapshot for task streams, then the live tail. Every user gets the same
    // subscription, so none of them can ask for something the others would not expect.
    entry = { sub: client.subscribe(stream), users: 0, closeTimer: undefined };
    registry.set(stream, entry);
  }
  if (entry.closeTimer !== undefined) clearTimeout(entry.closeTimer);
  entry.closeTimer = undefined;
  entry.users++;
  const held = entry;
  let released = false;
  return {
    sub: held.sub,
    release: () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users > 0) return;
      held.closeTimer = setTimeout(() => {
        held.closeTimer = undefined;
        if (held.users > 0) return;
        held.sub.close();
        if (registry.get(stream) === held) registry.delete(stream);
      }, LINGER_MS);
    },
  };
}
