/**
 * Resolves once `check` holds, looking again every `intervalMs`: for state no event announces.
 * The bound only turns a hang into a failure that names what was awaited.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Spaces out the rounds of a loop that stands for work taking time (a node that keeps writing while
 * the test cancels it): the interval is the workload's rhythm, not a wait for anything.
 */
export function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
