import { identityOf, type PublishGrant } from '../auth/publish-grant.js';

/** Refuses (with `forbidden`) streams this producer's credential may not own. */
export type ClaimGuard = (streams: readonly string[]) => Promise<void>;

/**
 * What the gateway knows of the credential behind a producer connection. Its `identity` owns
 * every `producerId` it says hello with first, until that producer is gone; its `grant` decides
 * which new tasks the producer may be asked to start; its `guard` which tasks it may own.
 */
export interface ProducerCredential {
  readonly identity: string;
  readonly grant: PublishGrant;
  readonly guard?: ClaimGuard;
}

/** Producers in the gateway's own process: trusted code, one identity of their own. */
export const IN_PROCESS_PRODUCER: ProducerCredential = {
  identity: identityOf(['in-process']),
  grant: 'all',
};
