import { sample } from './random.js';

/**
 * Deals items in shuffled rounds, so with fewer concurrent tasks than topics the same request is
 * never running twice at once, and every topic comes round regularly.
 */
export class Deck<T> {
  private hand: T[] = [];

  constructor(private readonly items: readonly T[]) {
    if (items.length === 0) throw new Error('A deck needs at least one item.');
  }

  draw(): T {
    if (this.hand.length === 0) this.hand = sample(this.items, this.items.length);
    return this.hand.pop()!;
  }
}
