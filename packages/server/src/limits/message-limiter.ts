import type { RefusalTally } from './refusal-tally.js';
import { TokenBucket } from './token-bucket.js';

/**
 * What a connection does with one inbound message: handle it, drop it (telling the client at most
 * once a second, so a flood does not turn into a flood of error frames), or close the connection.
 */
export type Admission = 'ok' | 'drop' | 'drop-and-tell' | 'close';

export interface MessageLimits {
  /** Sustained inbound messages per second per connection. 0 turns the limit off. */
  maxMessagesPerSecond: number;
  /** Messages a connection may send at once before the rate applies. */
  messageBurst: number;
  /** Messages dropped without a quiet second between them after which the connection is closed. */
  rateLimitCloseAfter: number;
}

/**
 * Per-connection inbound rate limit: a token bucket, a typed `rate_limited` refusal for what does
 * not fit, and a close once the client has kept flooding (`rateLimitCloseAfter` drops without a
 * full second free of drops). A client that bursts now and then is never closed; one that ignores
 * the refusals is.
 */
export class MessageLimiter {
  private readonly bucket: TokenBucket | undefined;
  private dropped = 0;
  private lastDrop = 0;
  private lastTold = 0;

  constructor(
    private readonly limits: MessageLimits,
    private readonly tally?: RefusalTally,
  ) {
    this.bucket =
      limits.maxMessagesPerSecond > 0
        ? new TokenBucket(limits.maxMessagesPerSecond, Math.max(1, limits.messageBurst))
        : undefined;
  }

  admit(now = Date.now()): Admission {
    if (!this.bucket || this.bucket.take(1, now)) return 'ok';
    this.tally?.note('rate_limited');
    if (now - this.lastDrop >= 1000) this.dropped = 0;
    this.lastDrop = now;
    this.dropped++;
    if (this.dropped > this.limits.rateLimitCloseAfter) return 'close';
    if (now - this.lastTold >= 1000) {
      this.lastTold = now;
      return 'drop-and-tell';
    }
    return 'drop';
  }
}
