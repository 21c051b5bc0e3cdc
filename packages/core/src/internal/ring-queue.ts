/** A FIFO queue (`@socket-lab/core/internal`, not public API). */

/** Slots a queue takes on its first push: most hold one or two items (a waiting reader). */
const INITIAL_CAPACITY = 4;

/** The slots of every empty queue: none, shared, so that a queue never used costs no array. */
const NO_SLOTS: readonly never[] = Object.freeze([]);

/**
 * A first-in first-out queue on a growable ring buffer: push and shift are O(1), unlike
 * `Array.prototype.shift`, which moves every element.
 */
export class RingQueue<T> {
  #items: (T | undefined)[] = NO_SLOTS as never[];
  #head = 0;
  #length = 0;

  /** Items waiting. */
  get length(): number {
    return this.#length;
  }

  /** Adds an item at the back. */
  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  /** Removes and returns the front item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return item;
  }

  /** Removes every item. */
  clear(): void {
    this.#items = NO_SLOTS as never[];
    this.#head = 0;
    this.#length = 0;
  }

  // The capacity stays a power of two so that `& (capacity - 1)` wraps an index.
  #grow(): void {
    const grown: (T | undefined)[] = new Array(Math.max(INITIAL_CAPACITY, this.#items.length * 2));
    for (let i = 0; i < this.#length; i++) {
      grown[i] = this.#items[(this.#head + i) & (this.#items.length - 1)];
    }
    this.#items = grown;
    this.#head = 0;
  }
}
