/** Timing of the producer channel; every value is in milliseconds. */
export interface ProducerOptions {
  /** How often producers ping (told to them in `welcome`). Default 5 s. */
  heartbeatMs: number;
  /**
   * Silence after which a producer is gone: its queue is dropped and every task it owned that is
   * still running gets `task:failed` with reason `orphaned`. Also how long a disconnected producer
   * may take to come back and receive the commands queued for it. Default 30 s.
   */
  orphanAfterMs: number;
  /** How long a watcher's command waits for the producer's acknowledgement before `timeout`. Default 10 s. */
  commandTimeoutMs: number;
  /**
   * How long a command for a running task that no producer has claimed yet waits for a claim
   * before `no_producer`: a producer's claim can trail its first events, and after a gateway
   * restart producers need a moment to reconnect. Default 2 s.
   */
  claimWaitMs: number;
}

export const defaultProducerOptions: ProducerOptions = {
  heartbeatMs: 5_000,
  orphanAfterMs: 30_000,
  commandTimeoutMs: 10_000,
  claimWaitMs: 2_000,
};
