import type { AnyEventInput, PublishResult } from '@agentwire/protocol';

/** What the gateway answers for one accepted batch: the seq it stored each event at, by event id. */
export type { PublishResult };

/**
 * Anything that can durably append events to a stream. The gateway implements it in-process; the
 * HTTP publisher implements it over the network. It must be idempotent by event id, which is what
 * makes the producer's retries safe.
 */
export interface Publisher {
  publish(stream: string, events: AnyEventInput[]): Promise<PublishResult>;
  /**
   * In-process publishers may take the events' data already encoded: `jsons[i]` is the JSON text
   * `events[i].data` was parsed from, and nobody else holds that data, so the publisher can store
   * the text and keep the value instead of encoding and copying it again.
   */
  publishEncoded?(stream: string, events: AnyEventInput[], jsons: string[]): Promise<PublishResult>;
}
