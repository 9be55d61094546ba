/**
 * A new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made this way sort
 * by time, so a log that indexes event ids (for idempotent appends) inserts each one near the end
 * of its index instead of at a random page, and a commit rewrites a few index pages rather than one
 * per event (bench/results.md has the append rates). They fit every id and stream-name pattern a
 * UUID fits.
 */
export function timeOrderedId(now: number = Date.now()): string {
  // randomUUID draws from a pooled random buffer, cheaper than asking for bytes per id; its version
  // digit (index 14) becomes 7 and its first 48 bits become the time. The variant bits stay.
  const random = globalThis.crypto.randomUUID();
  if (now !== lastMs) {
    const time = Math.max(0, Math.min(Math.floor(now), 0xffffffffffff))
      .toString(16)
      .padStart(12, '0');
    lastMs = now;
    lastPrefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
  }
  return lastPrefix + random.slice(15);
}

// Thousands of ids share a millisecond under load; their time prefix is formatted once.
let lastMs = NaN;
let lastPrefix = '';
