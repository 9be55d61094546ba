/**
 * Keeps each `producerId` with one credential across gateway nodes, where one node's registry
 * cannot see a session on another (cluster/producer-ids.ts). Local sessions are checked by the
 * registry itself.
 */
export interface ProducerIdBinding {
  /** Binds `producerId` to `identity`; throws `producer_id_taken` when another identity holds it. */
  bind(producerId: string, identity: string): Promise<void>;
  /** The producer is gone from this node: its id lapses unless another node holds it too. */
  release(producerId: string): void;
}

export function producerIdTakenMessage(producerId: string): string {
  return `The producer id ${JSON.stringify(producerId.slice(0, 128))} is in use by a producer with another credential.`;
}
