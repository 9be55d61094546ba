/**
 * Filters an append-mostly list without rescanning it: when the source only grew at the end (same
 * first and last-known elements, same predicate), only the new tail is tested. Anything else (a
 * trimmed front, another predicate, a reset) rescans. The terminal re-filters every batch this way.
 */
export class IncrementalFilter<T> {
  #source: readonly T[] = [];
  #predicate: ((item: T) => boolean) | undefined;
  #result: T[] = [];

  apply(source: readonly T[], predicate: (item: T) => boolean): T[] {
    if (source === this.#source && predicate === this.#predicate) return this.#result;
    const prev = this.#source;
    const n = prev.length;
    const grew =
      predicate === this.#predicate &&
      n > 0 &&
      source.length >= n &&
      source[0] === prev[0] &&
      source[n - 1] === prev[n - 1];
    let result: T[];
    if (grew) {
      result = this.#result.slice();
      for (let i = n; i < source.length; i++) if (predicate(source[i]!)) result.push(source[i]!);
    } else {
      result = source.filter(predicate);
    }
    this.#source = source;
    this.#predicate = predicate;
    this.#result = result;
    return result;
  }
}
