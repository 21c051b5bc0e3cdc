/**
 * The queue between what arrives and whoever reads: messages a connection delivered, or
 * connections a server accepted. One reader at a time; the producer bounds it (a connection
 * by its receive window, a server by `maxConnections`).
 */

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class MessageQueue<T> {
  #items: T[] = [];
  #head = 0;
  #waiter: Waiter<T> | undefined;
  #error: { error: unknown } | undefined;
  #ended = false;
  readonly #onRead: () => void;

  /** @param onRead called after a reader took an item (a receive window opens). */
  constructor(onRead: () => void = () => {}) {
    this.#onRead = onRead;
  }

  /** Items waiting for the reader. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Whether `end()` or `fail()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  push(item: T): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve({ done: false, value: item });
      this.#onRead();
      return;
    }
    this.#items.push(item);
  }

  /** No more items: the reader gets what is queued, then the end. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** The reader gets what is queued, then `error`. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = { error };
    this.#wake();
  }

  /** Drops what is queued and ends. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.end();
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === undefined || this.length > 0) return;
    this.#waiter = undefined;
    const pending = this.#error;
    this.#error = undefined;
    if (pending === undefined) waiter.resolve(DONE);
    else waiter.reject(pending.error);
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.length > 0) {
      const item = this.#items[this.#head] as T;
      this.#items[this.#head++] = undefined as T;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      this.#onRead();
      return Promise.resolve({ done: false, value: item });
    }
    if (this.#ended) {
      const pending = this.#error;
      this.#error = undefined;
      return pending === undefined ? Promise.resolve(DONE) : Promise.reject(pending.error);
    }
    if (this.#waiter !== undefined) {
      return Promise.reject(new TypeError("read from one place at a time"));
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** An iterator; `return()` (a `break`) leaves the queue as it is. */
  iterate(): AsyncIterableIterator<T> {
    return {
      next: () => this.next(),
      return: () => {
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter?.resolve(DONE);
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
