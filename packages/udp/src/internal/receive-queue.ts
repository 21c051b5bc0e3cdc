/**
 * Private: the bounded queue between a socket's 'message' events and whoever reads it (an
 * iterator or a `receive()`). A datagram goes straight to a waiting reader when there is one;
 * otherwise it waits in the queue, and when the queue is full it is refused (the socket counts
 * it as dropped). Errors never pass through here: a socket reports them on their own channel.
 */

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
}

const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };

export class _ReceiveQueue<T> {
  readonly #limit: number;
  readonly #items: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #closed = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Items waiting for a reader. */
  get size(): number {
    return this.#items.length;
  }

  /** Hands `item` to the first waiting reader or queues it; `false` when the queue is full. */
  push(item: T): boolean {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ done: false, value: item });
      return true;
    }
    if (this.#items.length >= this.#limit) return false;
    this.#items.push(item);
    return true;
  }

  /** Ends every read, now and later; queued items are discarded. */
  close(): void {
    this.#closed = true;
    this.#items.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
  }

  /**
   * An iterator over the queue. Several may exist; each item goes to one of them. `return()`
   * (a `break` out of `for await`, a `receive()` that gives up) ends that iterator only, never
   * the queue, and gives up its place in line.
   */
  iterate(): AsyncIterableIterator<T> {
    let current: Waiter<T> | undefined;
    let finished = false;
    const read = (): Promise<IteratorResult<T, undefined>> => {
      if (finished) return Promise.resolve(DONE);
      if (this.#items.length > 0) {
        return Promise.resolve({ done: false, value: this.#items.shift() as T });
      }
      if (this.#closed) return Promise.resolve(DONE);
      return new Promise((resolve) => {
        current = { resolve };
        this.#waiters.push(current);
      });
    };
    return {
      next: read,
      return: () => {
        finished = true;
        const index = current === undefined ? -1 : this.#waiters.indexOf(current);
        if (index !== -1) this.#waiters.splice(index, 1)[0]?.resolve(DONE);
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
