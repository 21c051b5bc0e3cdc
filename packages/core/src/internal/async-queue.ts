/**
 * The queue between what arrives and whoever reads it (`@socket-lab/core/internal`, not public
 * API): datagrams a socket received, messages a connection delivered, connections a server
 * accepted. An item goes straight to a waiting reader when there is one, or waits in the queue.
 * Every operation is O(1): items and waiting readers sit in ring buffers, and a reader that
 * gives up is marked, not searched for.
 */

import { DONE } from "./deferred.js";
import { RingQueue } from "./ring-queue.js";

/** Options of an {@link AsyncQueue}. */
export interface AsyncQueueOptions {
  /** Items the queue holds while nobody reads; `push()` refuses more. @default Infinity */
  limit?: number;
  /** Called each time a reader has taken an item (a receive window opens). */
  onRead?: () => void;
}

interface Reader<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
  settled: boolean;
}

export class AsyncQueue<T> {
  readonly #items = new RingQueue<T>();
  readonly #readers = new RingQueue<Reader<T>>();
  readonly #limit: number;
  readonly #onRead: (() => void) | undefined;
  #ended = false;
  #error: { error: unknown } | undefined;

  constructor(options: AsyncQueueOptions = {}) {
    this.#limit = options.limit ?? Infinity;
    this.#onRead = options.onRead;
  }

  /** Items waiting for a reader. */
  get length(): number {
    return this.#items.length;
  }

  /** Whether `end()`, `fail()` or `clear()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Hands `item` to the first waiting reader, or queues it.
   * @returns `false` when it was refused: the queue is full or has ended.
   */
  push(item: T): boolean {
    if (this.#ended) return false;
    const reader = this.#nextReader();
    if (reader !== undefined) {
      reader.resolve({ done: false, value: item });
      this.#onRead?.();
      return true;
    }
    if (this.#items.length >= this.#limit) return false;
    this.#items.push(item);
    return true;
  }

  /** No more items: readers get what is queued, then the end. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** No more items: readers get what is queued, then one of them `error`, then the end. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = { error };
    this.#wake();
  }

  /** Drops what is queued and ends. */
  clear(): void {
    this.#items.clear();
    this.end();
  }

  /** The next item, or the end. Several readers may wait; each item goes to one of them. */
  next(): Promise<IteratorResult<T, undefined>> {
    return this.#read()[0];
  }

  /**
   * An iterator over the queue. `return()` (a `break` out of `for await`, a read that gives up)
   * ends that iterator only, never the queue, and gives up its place in line.
   */
  iterate(): AsyncIterableIterator<T> {
    let current: Reader<T> | undefined;
    let finished = false;
    return {
      next: () => {
        if (finished) return Promise.resolve(DONE);
        const [promise, reader] = this.#read();
        current = reader;
        return promise;
      },
      return: () => {
        finished = true;
        if (current !== undefined && !current.settled) {
          current.settled = true;
          current.resolve(DONE);
        }
        current = undefined;
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  #read(): [Promise<IteratorResult<T, undefined>>, Reader<T> | undefined] {
    if (this.#items.length > 0) {
      const value = this.#items.shift() as T;
      this.#onRead?.();
      return [Promise.resolve({ done: false, value }), undefined];
    }
    if (this.#ended) return [this.#endResult(), undefined];
    let reader!: Reader<T>;
    const promise = new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      reader = { resolve, reject, settled: false };
    });
    this.#readers.push(reader);
    return [promise, reader];
  }

  /** The first reader still waiting, marked settled; readers that gave up are skipped. */
  #nextReader(): Reader<T> | undefined {
    for (let reader = this.#readers.shift(); reader; reader = this.#readers.shift()) {
      if (!reader.settled) {
        reader.settled = true;
        return reader;
      }
    }
    return undefined;
  }

  /** Once the queue is empty and ended, answers every waiting reader. */
  #wake(): void {
    if (this.#items.length > 0) return;
    for (let reader = this.#nextReader(); reader; reader = this.#nextReader()) {
      const pending = this.#error;
      this.#error = undefined;
      if (pending === undefined) reader.resolve(DONE);
      else reader.reject(pending.error);
    }
  }

  #endResult(): Promise<IteratorResult<T, undefined>> {
    const pending = this.#error;
    this.#error = undefined;
    return pending === undefined ? Promise.resolve(DONE) : Promise.reject(pending.error);
  }
}
