/**
 * A log-linear latency histogram in the spirit of HdrHistogram: values (microseconds) below 128
 * are exact, above that each power of two is split into 64 buckets, so any recorded value is
 * known to within 1.6%. Fixed size, allocation-free to record, and mergeable across threads by
 * adding the count arrays, which is all the load generator needs.
 */
const SUB = 64;
const BUCKETS = SUB * 25 + 2 * SUB; // covers values up to 2^31 µs (~36 min)
const MAX = 2 ** 31 - 1;

export class Histogram {
  readonly counts: Float64Array;
  total = 0;
  max = 0;

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(BUCKETS);
    if (counts) {
      for (let i = 0; i < counts.length; i++) {
        const n = counts[i]!;
        if (n > 0) {
          this.total += n;
          this.max = Math.max(this.max, valueOf(i));
        }
      }
    }
  }

  /** Records `count` samples of `micros`. */
  record(micros: number, count = 1): void {
    const v = micros <= 0 ? 0 : micros >= MAX ? MAX : Math.trunc(micros);
    this.counts[indexOf(v)]! += count;
    this.total += count;
    if (v > this.max) this.max = v;
  }

  add(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    if (other.max > this.max) this.max = other.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }

  /** The value at quantile `q` (0..1) in microseconds; NaN when empty. */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(valueOf(i), this.max);
    }
    return this.max;
  }
}

function indexOf(v: number): number {
  if (v < 2 * SUB) return v;
  const shift = 31 - Math.clz32(v) - 6;
  return SUB * shift + (v >>> shift);
}

/** Midpoint of bucket `i`, the usual estimate for a value that landed there. */
function valueOf(i: number): number {
  if (i < 2 * SUB) return i;
  const shift = Math.floor(i / SUB) - 1;
  const mantissa = i - SUB * shift;
  return (mantissa + 0.5) * 2 ** shift;
}
