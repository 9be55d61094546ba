import { createClient, type Client, type ClientOptions } from '@agentwire/client';
import type { AnyEnvelope } from '@agentwire/protocol';

/** A client SDK subscriber that records what it got and when, for tests that break the cluster. */
export interface Watcher {
  name: string;
  client: Client;
  events: AnyEnvelope[];
  /** `performance.now()` at each event, to measure the stall a fault caused. */
  arrivals: number[];
  resets: number;
}

/** Subscribes to `stream` from its first seq (no snapshot), so a gap or a repeat shows in `events`. */
export function watch(name: string, url: ClientOptions['url'], stream: string): Watcher {
  const w: Watcher = { name, client: createClient({ url }), events: [], arrivals: [], resets: 0 };
  const sub = w.client.subscribe(stream, { since: { seq: 0 }, snapshot: false });
  sub.on('event', (e) => {
    w.events.push(e);
    w.arrivals.push(performance.now());
  });
  sub.on('reset', () => w.resets++);
  return w;
}

/** The longest time without an entry of `times` (sorted) within [from, to). */
export function longestGap(times: readonly number[], from: number, to: number): number {
  let last = from;
  let longest = 0;
  for (const at of times) {
    if (at < from) continue;
    if (at >= to) break;
    longest = Math.max(longest, at - last);
    last = at;
  }
  return Math.max(longest, to - last);
}
