import type { AgentwireError } from '@agentwire/protocol';

/**
 * Where a subscription's frames go. A transport implements this once per connection; the hub
 * hands it frames that are already encoded, so one event is serialized once for all subscribers.
 */
export interface Sink {
  /** Sends one encoded frame. */
  send(frame: string): void;
  /** Bytes queued but not yet written; the hub disconnects sinks that fall too far behind. */
  readonly bufferedBytes: number;
  /** Ends the connection because it could not keep up. */
  overflow(): void;
  /**
   * The hub ended this sink's subscription to `stream` (already unsubscribed): the subscriber may
   * no longer read it, e.g. the task moved to a project outside its scope. The transport reports
   * `err` (`forbidden`) as it reports a refused subscription. A sink without it is ended like a
   * slow one, and its reconnection is refused.
   */
  revoke?(stream: string, err: AgentwireError): void;
}
