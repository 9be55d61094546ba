import { after } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { createClient, type Client, type Subscription } from '@agentwire/client';
import type { AnyEnvelope } from '@agentwire/protocol';
import { createGateway, type Gateway } from '@agentwire/server';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

export interface Setup {
  gateway: Gateway;
  producer: Producer;
  watcher: Client;
}

/** A real gateway on port 0, an in-process producer on it, and a watcher over its WebSocket. */
export async function setup(): Promise<Setup> {
  const gateway = await createGateway({ engine: { kind: 'memory' }, port: 0, logLevel: 'silent' });
  cleanups.push(() => gateway.close());
  const producer = connect({ publisher: gateway });
  cleanups.push(() => producer.close());
  const watcher = createClient({ url: gateway.url });
  cleanups.push(() => watcher.close());
  return { gateway, producer, watcher };
}

/** Every event of a stream as the gateway stored it, in order. */
export async function history(gateway: Gateway, stream: string): Promise<AnyEnvelope[]> {
  const res = await fetch(`${gateway.url}/v1/streams/${encodeURIComponent(stream)}/events?limit=1000`);
  if (!res.ok) throw new Error(`history of ${stream}: HTTP ${res.status}`);
  const body = (await res.json()) as { events: AnyEnvelope[] };
  return body.events;
}

/** Resolves with the first event the subscription sees that matches. */
export function nextEvent(sub: Subscription, match: (e: AnyEnvelope) => boolean): Promise<AnyEnvelope> {
  return new Promise((resolve) => {
    const off = sub.onEvent((e) => {
      if (!match(e)) return;
      off();
      resolve(e);
    });
  });
}
