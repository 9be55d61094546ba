/**
 * Resolves once `check` holds, looking again every few milliseconds: for state no event announces
 * (a broker's queue, another node's registry). The bound only turns a hang into a failure that
 * names what was awaited.
 */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
