/**
 * Resolves once `check` holds, looking again every `intervalMs`: for state no event announces
 * (a broker's queue, another node's registry, what a client has received so far). The bound only
 * turns a hang into a failure that names what was awaited; `what` may be a function, so the failure
 * describes the state at the moment it gave up.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Lets `ms` pass on the real clock. Only for proving that something does NOT happen (nothing more
 * arrives, nothing is delivered while away, a timer-paced loop does not spin): no event announces an
 * absence, so the test gives it a window to show up. Anything awaited positively uses waitUntil.
 */
export function letTimePass(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Spaces out the rounds of a loop that makes load or retries (a producer publishing while the test
 * runs, a client reconnecting to a gateway that is down): the interval is the workload's rhythm, not
 * a wait for anything, and nothing is asserted because it passed.
 */
export function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
