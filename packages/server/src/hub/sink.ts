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
}
