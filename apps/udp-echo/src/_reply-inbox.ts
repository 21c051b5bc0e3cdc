/**
 * Private: the datagrams that arrive on one or more sockets (one udp4, one udp6), taken one at
 * a time with a time limit — what recvfrom() with SO_RCVTIMEO does in C. Datagrams that
 * `accept` turns away (not from the server) are counted and dropped as they arrive, so a
 * flood of them never takes the places of replies in the queue.
 */

import type { Datagram, UdpSocket } from "@socket-lab/udp";

/** Datagrams kept while nobody is waiting; more are dropped, as the kernel would. */
const LIMIT = 1_024;

export class ReplyInbox {
  /** Datagrams `accept` turned away. */
  rejected = 0;
  readonly #accept: (datagram: Datagram) => boolean;
  readonly #queue: Datagram[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(sockets: readonly UdpSocket[], accept: (datagram: Datagram) => boolean) {
    this.#accept = accept;
    for (const socket of sockets) void this.#collect(socket);
  }

  async #collect(socket: UdpSocket): Promise<void> {
    // Ends when the socket is closed. An error (an ICMP report) is thrown once; read on.
    while (!this.#closed) {
      try {
        for await (const datagram of socket) {
          if (!this.#accept(datagram)) {
            this.rejected += 1;
            continue;
          }
          if (this.#queue.length < LIMIT) this.#queue.push(datagram);
          this.#wake?.();
        }
        return;
      } catch {}
    }
  }

  /** The next datagram, or `undefined` when none comes within `timeoutMs` or on `close()`. */
  take(timeoutMs: number): Promise<Datagram | undefined> {
    const queued = this.#queue.shift();
    if (queued !== undefined || this.#closed) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), Math.max(0, timeoutMs));
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(this.#queue.shift());
      };
      this.#wake = done;
    });
  }

  /** Drops what is queued (late or duplicate replies) and says how many there were. */
  clear(): number {
    return this.#queue.splice(0).length;
  }

  /** Ends every wait now and later. */
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
}
