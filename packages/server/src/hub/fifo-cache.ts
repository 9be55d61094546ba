/**
 * Values by key, oldest out first once their total size passes a bound. Eviction pops a queue of
 * keys: iterating the Map from its start instead would walk the holes its deletions leave, which
 * makes every insert cost time in proportion to the cache.
 */
export class FifoCache<V> {
  private readonly map = new Map<string, V>();
  private keys: string[] = [];
  private head = 0;
  private total = 0;

  constructor(
    private readonly maxSize: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    if (this.map.has(key)) return;
    this.map.set(key, value);
    this.keys.push(key);
    this.total += this.sizeOf(value);
    while (this.total > this.maxSize && this.head < this.keys.length) {
      const oldest = this.keys[this.head++]!;
      const evicted = this.map.get(oldest);
      if (evicted !== undefined) this.total -= this.sizeOf(evicted);
      this.map.delete(oldest);
    }
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.head = 0;
    }
  }
}
