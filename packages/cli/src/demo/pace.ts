/**
 * Demo time: every delay in the workload is written at human speed and divided by `speed`, and
 * every wait ends at once when the signal aborts, so stop() never waits out a sleeping agent.
 */
export class Pace {
  constructor(
    readonly speed: number,
    readonly signal: AbortSignal,
  ) {}

  /** The same speed, bound to a narrower signal (one task's). */
  with(signal: AbortSignal): Pace {
    return new Pace(this.speed, signal);
  }

  /** Real milliseconds for `ms` of demo time. */
  scale(ms: number): number {
    return ms / this.speed;
  }

  /** Waits `ms` of demo time. */
  sleep(ms: number): Promise<void> {
    return abortableDelay(this.scale(ms), this.signal);
  }
}

export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
