/**
 * Private: what keeps an echo server from being looped. A datagram server answers whatever
 * arrives, to whatever address it says it came from, and that address can be forged. Aim a
 * datagram "from" the server itself and it answers itself, forever; point two echo servers at
 * each other and they play ping-pong, forever. So before each reply:
 *
 * 1. Own address: a datagram from the server's own address and port is never answered.
 * 2. Echo storm: a sender whose datagram is the same as the one before it, which we answered,
 *    `stormRepeats` times in a row, gets no answer this once. A loop of echo servers (or of
 *    fixed `--reply` servers) repeats one datagram forever, so it stops there; a client that
 *    repeats itself (retries, the same line again) is kept waiting one timeout, then answered.
 * 3. Rate: each sender (address and port) has a token bucket of `burst` replies, refilled at
 *    `rate` per second; a reply with no token left is not sent. That slows what the other two
 *    miss, such as a loop whose content changes every time.
 *
 * At most MAX_TRACKED_SENDERS senders are remembered; the one heard from least recently is
 * forgotten first (it starts with a full bucket if it comes back). Replies held back are
 * counted by reason, and worth a log line only now and then (see `reportDue`), never one per
 * datagram: a loop runs at thousands a second.
 */

import { hash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";
import type { InetEndpoint } from "@socket-lab/core";

/** Senders whose bucket and last datagram are remembered. */
const MAX_TRACKED_SENDERS = 4_096;

/** Least time between two log lines about replies held back for one reason, in ms. */
const REPORT_INTERVAL_MS = 1_000;

/** Why a reply was not sent. */
export type HoldReason = "own-address" | "echo-storm" | "rate-limit";

export interface ReplyGuardLimits {
  /** Replies per second each sender's bucket refills with. */
  readonly rate: number;
  /** Most replies a sender can get at once (its bucket's size). */
  readonly burst: number;
  /** Identical datagrams in a row, each answered, after which the next one is not. */
  readonly stormRepeats: number;
}

interface Sender {
  tokens: number;
  refilledAt: number;
  /** Fingerprint of the sender's last datagram, while it was answered. */
  last: string | undefined;
  repeats: number;
}

export class ReplyGuard {
  readonly #local: InetEndpoint;
  readonly #limits: ReplyGuardLimits;
  readonly #now: () => number;
  readonly #senders = new Map<string, Sender>();
  /** Replies held back so far, by reason. */
  readonly held = counts();
  readonly #unreported = counts();
  readonly #reportedAt = new Map<HoldReason, number>();

  /** `now` returns milliseconds on a monotonic clock; tests pass their own. */
  constructor(local: InetEndpoint, limits: ReplyGuardLimits, now = () => performance.now()) {
    this.#local = local;
    this.#limits = limits;
    this.#now = now;
  }

  /**
   * Why a reply to `data` from `from` must not be sent (counted), or `undefined` when it may
   * be; then it uses one of the sender's tokens.
   */
  check(from: InetEndpoint, data: Buffer): HoldReason | undefined {
    const reason = this.#verdict(from, data);
    if (reason !== undefined) {
      this.held[reason] += 1;
      this.#unreported[reason] += 1;
    }
    return reason;
  }

  /**
   * The replies held back for `reason` since the last report, when a log line about them is
   * due (the first one, then at most one per second); otherwise `undefined`.
   */
  reportDue(reason: HoldReason): number | undefined {
    const now = this.#now();
    const last = this.#reportedAt.get(reason);
    if (last !== undefined && now - last < REPORT_INTERVAL_MS) return undefined;
    this.#reportedAt.set(reason, now);
    const count = this.#unreported[reason];
    this.#unreported[reason] = 0;
    return count;
  }

  #verdict(from: InetEndpoint, data: Buffer): HoldReason | undefined {
    if (isOwnAddress(from, this.#local)) return "own-address";
    const sender = this.#sender(from);
    const fingerprint = `${data.length}:${hash("sha1", data)}`;
    sender.repeats = fingerprint === sender.last ? sender.repeats + 1 : 0;
    sender.last = fingerprint;
    if (sender.repeats >= this.#limits.stormRepeats) {
      // Not answered: the next identical datagram cannot be a bounce of this reply.
      sender.last = undefined;
      sender.repeats = 0;
      return "echo-storm";
    }
    const now = this.#now();
    const { rate, burst } = this.#limits;
    sender.tokens = Math.min(burst, sender.tokens + ((now - sender.refilledAt) * rate) / 1_000);
    sender.refilledAt = now;
    if (sender.tokens < 1) {
      sender.last = undefined;
      return "rate-limit";
    }
    sender.tokens -= 1;
    return undefined;
  }

  #sender(from: InetEndpoint): Sender {
    const key = `${from.host} ${from.port}`;
    let sender = this.#senders.get(key);
    if (sender === undefined) {
      sender = { tokens: this.#limits.burst, refilledAt: this.#now(), last: undefined, repeats: 0 };
      if (this.#senders.size >= MAX_TRACKED_SENDERS) {
        const oldest = this.#senders.keys().next();
        if (oldest.done !== true) this.#senders.delete(oldest.value);
      }
    } else {
      // Most recently heard from goes last: the map's order is the eviction order.
      this.#senders.delete(key);
    }
    this.#senders.set(key, sender);
    return sender;
  }
}

function counts(): Record<HoldReason, number> {
  return { "own-address": 0, "echo-storm": 0, "rate-limit": 0 };
}

/**
 * Whether `from` is `local` itself. Bound to one address, only that address with our port is
 * us; bound to a loopback address, any loopback address with our port is treated as us; bound
 * to the wildcard (0.0.0.0 or ::), every address of this machine with our port is us.
 */
export function isOwnAddress(from: InetEndpoint, local: InetEndpoint): boolean {
  if (from.port !== local.port) return false;
  const host = unmapped(from.host);
  const bound = unmapped(local.host);
  if (host === bound) return true;
  if (isLoopback(bound)) return isLoopback(host);
  if (bound !== "0.0.0.0" && bound !== "::") return false;
  if (isLoopback(host)) return true;
  return Object.values(networkInterfaces()).some((addresses) =>
    addresses?.some((address) => unmapped(address.address) === host),
  );
}

function isLoopback(host: string): boolean {
  return (isIPv4(host) && host.startsWith("127.")) || (isIPv6(host) && host === "::1");
}

/** `::ffff:127.0.0.1` (an IPv4 address on a dual-stack socket) as `127.0.0.1`. */
function unmapped(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith("::ffff:") && isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}
