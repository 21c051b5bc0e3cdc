/**
 * Private: the client's messages in flight — sent, not yet answered, oldest first — at most
 * `window` of them, and the deadline for their replies.
 *
 * They live in a ring of `window` slots: message n in slot n % window. Taking the oldest is
 * O(1) (an array's `shift()` moves every element: a million messages took minutes), and the
 * memory is that of `window` messages however long the input and however silent the server.
 */
export class InFlight {
  readonly #slots: (string | undefined)[];
  /** The writer waits for room down to this many, so that it sends in batches, not one by one. */
  readonly #resumeAt: number;
  readonly #deadline: NodeJS.Timeout | undefined;
  #sent = 0;
  #answered = 0;
  #closed = false;
  #wake: ((room: boolean) => void) | undefined;

  /**
   * @param window most messages in flight, at least 1.
   * @param timeoutMs how long a reply may take while any message waits, in ms; 0: no limit.
   * @param onSilent called when that time passes without a reply.
   */
  constructor(window: number, timeoutMs: number, onSilent: () => void) {
    this.#slots = new Array<string | undefined>(window);
    this.#resumeAt = Math.floor(window / 2);
    // Armed when the first message goes out and re-armed by each reply; when it fires with
    // nothing in flight (the last reply came in time), it does nothing.
    this.#deadline =
      timeoutMs > 0
        ? setTimeout(() => {
            if (this.waiting > 0) onSilent();
          }, timeoutMs)
        : undefined;
  }

  /** Messages sent. */
  get sent(): number {
    return this.#sent;
  }

  /** Messages answered. */
  get answered(): number {
    return this.#answered;
  }

  /** Messages waiting for their reply. */
  get waiting(): number {
    return this.#sent - this.#answered;
  }

  /** The window is full: send no more until {@link room} resolves. */
  get full(): boolean {
    return this.waiting >= this.#slots.length;
  }

  /** Records a message that went out. */
  add(message: string): void {
    this.#slots[this.#sent % this.#slots.length] = message;
    this.#sent += 1;
    if (this.waiting === 1 && !this.#closed) this.#deadline?.refresh();
  }

  /** A reply came: the oldest message, now answered, or `undefined` when none was waiting. */
  answer(): string | undefined {
    if (this.waiting === 0) return undefined;
    const slot = this.#answered % this.#slots.length;
    const message = this.#slots[slot];
    this.#slots[slot] = undefined;
    this.#answered += 1;
    this.#deadline?.refresh();
    if (this.#wake !== undefined && this.waiting <= this.#resumeAt) this.#settle(true);
    return message;
  }

  /** Resolves `true` once the window has room (at once if it has), `false` once closed. */
  room(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (!this.full) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  /** The exchange is over: stops the deadline, and a writer waiting for room gets `false`. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#deadline);
    this.#settle(false);
  }

  #settle(room: boolean): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.(room);
  }
}
