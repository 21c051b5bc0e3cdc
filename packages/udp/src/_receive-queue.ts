/**
 * Private: the bounded queue between a socket's 'message' events and whoever iterates it.
 * A datagram goes straight to a waiting reader when there is one; otherwise it waits in the
 * queue, and when the queue is full it is refused (the socket counts it as dropped).
 */

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };

export class _ReceiveQueue<T> {
  readonly #limit: number;
  readonly #items: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #error: { error: unknown } | undefined;
  #closed = false;

  constructor(limit: number) {
    this.#limit = limit;
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

  /**
   * Rejects the first waiting reader with `error`, or keeps it for the next read. Only the
   * first unread error is kept: later ones describe the same trouble.
   */
  fail(error: unknown): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.reject(error);
    else this.#error ??= { error };
  }

  /** Ends every read, now and later; queued items are discarded. */
  close(): void {
    this.#closed = true;
    this.#items.length = 0;
    this.#error = undefined;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
  }

  /**
   * An iterator over the queue. Several may exist; each item goes to one of them. `return()`
   * (a `break` out of `for await`) ends that iterator only, never the queue.
   */
  iterate(): AsyncIterableIterator<T> {
    let current: Waiter<T> | undefined;
    let finished = false;
    const read = (): Promise<IteratorResult<T, undefined>> => {
      if (finished) return Promise.resolve(DONE);
      if (this.#items.length > 0) {
        return Promise.resolve({ done: false, value: this.#items.shift() as T });
      }
      const pending = this.#error;
      if (pending !== undefined) {
        this.#error = undefined;
        return Promise.reject(pending.error);
      }
      if (this.#closed) return Promise.resolve(DONE);
      return new Promise((resolve, reject) => {
        current = { resolve, reject };
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
