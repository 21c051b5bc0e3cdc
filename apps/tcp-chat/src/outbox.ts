/**
 * One member's outgoing lines: a bounded queue between the room and the member's connection.
 *
 * The room never writes straight to a member's socket. Lines wait here and go to the kernel a
 * chunk at a time: send the chunk, then wait until the kernel has taken all of it (the
 * connection's `drain()`, with a high-water mark of 0). A line counts against the queue until
 * the kernel has it, so the queue sees what the member really does: a chunk taken means its
 * client read something (TCP's window opened). Counting at the time a line is queued instead
 * would call any burst "slow" before a single byte had reached the kernel.
 *
 * The room uses this to throttle senders rather than drop readers: while a queue has no room
 * (`hasRoom()`), the room stops reading senders and waits for `progress()`. A queue that keeps
 * a sender waiting while the kernel takes nothing for `stallTimeoutMs` calls `onStall`.
 */

import { afterPendingInput, type Deferred, deferred } from "@socket-lab/core/internal";
import type { Connection } from "@socket-lab/tcp";

/**
 * Most bytes handed to the connection at once, in bytes: the step in which the queue sees a
 * member's progress. A client must read this much within the stall timeout to count as reading.
 */
export const CHUNK_BYTES = 16 * 1024;

/**
 * How far notices (joins, leaves) may take a queue past its limits, as a factor: they cannot
 * wait for room, since no one sent them. Past this a member is hopelessly behind.
 */
const NOTICE_HEADROOM = 2;

/** Options of an {@link Outbox}; all required: the room applies its defaults. */
export interface OutboxOptions {
  /** Most bytes waiting (queued, or handed to the connection and not yet taken by the kernel). */
  limitBytes: number;
  /** Most lines waiting, whatever their size: each one costs memory of its own. */
  limitLines: number;
  /** Time a full queue may go with the kernel taking nothing, while a sender waits, in ms. */
  stallTimeoutMs: number;
  /** Called once when that time has passed: the room drops the member. */
  onStall: () => void;
}

/** A member's bounded queue of outgoing lines. The connection's high-water mark must be 0. */
export class Outbox {
  readonly #connection: Connection<string>;
  readonly #options: OutboxOptions;
  /** Lines not yet handed to the connection: `#lines[#head]` onwards. */
  #lines: (string | undefined)[] = [];
  #head = 0;
  /** Bytes and lines waiting: those queued and those in the chunk the kernel is taking. */
  #bytes = 0;
  #count = 0;
  /** The chunk handed to the connection whose bytes the kernel has not all taken yet. */
  #sending: { bytes: number; count: number } | undefined;
  /** Settles at the next progress: what senders waiting for room await. */
  #progress: Deferred<void> | undefined;
  /** Runs while a sender waits for room; restarted by each chunk the kernel takes. */
  #stallTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(connection: Connection<string>, options: OutboxOptions) {
    this.#connection = connection;
    this.#options = options;
  }

  /** Bytes waiting: queued, or with the connection and not yet taken by the kernel. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether a line of `bytes` bytes (its `\n` included) fits within the limits now. */
  hasRoom(bytes: number): boolean {
    const { limitBytes, limitLines } = this.#options;
    return this.#closed || (this.#bytes + bytes <= limitBytes && this.#count < limitLines);
  }

  /**
   * Queues a line of `bytes` bytes (`\n` included). The room checks `hasRoom()` first for the
   * lines a member sends; a notice may go past the limits up to NOTICE_HEADROOM times them.
   * @returns false, queueing nothing, past that: the member cannot keep up at all.
   */
  push(text: string, bytes: number): boolean {
    if (this.#closed) return true;
    const { limitBytes, limitLines } = this.#options;
    if (
      this.#bytes + bytes > NOTICE_HEADROOM * limitBytes ||
      this.#count >= NOTICE_HEADROOM * limitLines
    ) {
      return false;
    }
    this.#lines.push(text);
    this.#bytes += bytes;
    this.#count += 1;
    if (this.#sending === undefined) this.#sendChunk();
    return true;
  }

  /**
   * Resolves when the kernel next takes a chunk of this queue, or when the queue closes. Waiting
   * starts the stall clock: `onStall` runs if nothing is taken for `stallTimeoutMs` while anyone
   * waits.
   */
  progress(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#progress === undefined) {
      this.#progress = deferred<void>();
    }
    this.#stallTimer ??= setTimeout(this.#onStallTimer, this.#options.stallTimeoutMs);
    return this.#progress.promise;
  }

  /** Drops the lines not yet handed to the connection (a dropped member never reads them). */
  clear(): void {
    for (let i = this.#head; i < this.#lines.length; i++) this.#lines[i] = undefined;
    this.#lines = [];
    this.#head = 0;
    this.#bytes = this.#sending?.bytes ?? 0;
    this.#count = this.#sending?.count ?? 0;
  }

  /**
   * Closes the queue: the lines still waiting, then `lastLine`, go to the connection, which
   * sends them as it closes. Senders waiting for room go on. Idempotent.
   */
  end(lastLine?: string): void {
    if (this.#closed) return;
    try {
      for (let i = this.#head; i < this.#lines.length; i++) {
        this.#connection.write(this.#lines[i] as string);
      }
      if (lastLine !== undefined) this.#connection.write(lastLine);
    } catch {
      // The connection has failed or closed: nothing more can reach this member.
    }
    this.#close();
  }

  /** Hands the connection the next lines, up to CHUNK_BYTES, and waits for the kernel. */
  #sendChunk(): void {
    const lines = this.#lines;
    let bytes = 0;
    let count = 0;
    try {
      while (this.#head < lines.length && bytes < CHUNK_BYTES) {
        const text = lines[this.#head] as string;
        lines[this.#head++] = undefined;
        this.#connection.write(text);
        bytes += Buffer.byteLength(text) + 1;
        count += 1;
      }
    } catch {
      this.#close(); // the connection has failed: its receive loop takes the member out
      return;
    }
    if (this.#head === lines.length) {
      this.#lines = [];
      this.#head = 0;
    } else if (this.#head > 1024 && 2 * this.#head > lines.length) {
      this.#lines = lines.slice(this.#head);
      this.#head = 0;
    }
    this.#sending = { bytes, count };
    // With a high-water mark of 0, drain() resolves once the kernel has taken every byte.
    this.#connection.drain().then(this.#onTaken, this.#onFailed);
  }

  readonly #onTaken = (): void => {
    const taken = this.#sending;
    this.#sending = undefined;
    if (this.#closed || taken === undefined) return;
    this.#bytes -= taken.bytes;
    this.#count -= taken.count;
    // Progress: whoever waits looks again, and the stall clock starts over.
    const progress = this.#progress;
    if (progress !== undefined) {
      this.#progress = undefined;
      this.#stallTimer?.refresh();
      progress.resolve();
    } else {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
    if (this.#head < this.#lines.length) this.#sendChunk();
  };

  readonly #onFailed = (): void => {
    this.#sending = undefined;
    this.#close();
  };

  readonly #onStallTimer = (): void => {
    this.#stallTimer = undefined;
    // The kernel may have taken the chunk while the process did not run, and the drain that
    // says so may still be unread: decide after it.
    const waiting = this.#progress;
    afterPendingInput(() => {
      // Nobody is held back by this queue any more, or the kernel took a chunk since: a full
      // queue alone is no reason to drop.
      if (this.#closed || waiting === undefined || this.#progress !== waiting) return;
      this.#options.onStall();
    });
  };

  #close(): void {
    this.#closed = true;
    this.#lines = [];
    this.#head = 0;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    const progress = this.#progress;
    this.#progress = undefined;
    progress?.resolve();
  }
}
