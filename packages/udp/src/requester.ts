/**
 * The client half of request/response over datagrams: each request carries an id in an
 * 8-byte header (see request-frame.ts), is sent again when no reply comes in time, waiting
 * longer each time, and is answered by the first reply with its id. Later copies of that reply
 * are counted and ignored.
 */

import { randomInt } from "node:crypto";
import { isIPv4 } from "node:net";
import {
  type BackoffOptions,
  type Endpoint,
  ErrorCode,
  formatAddress,
  type InetEndpoint,
  SocketError,
} from "@socket-lab/core";
import {
  abortReason,
  backoffDelay,
  checkInteger,
  checkNumber,
  checkOnError,
  checkSignal,
  invalidArgType,
  invalidArgValue,
  MAX_TIMER_MS,
  reportError,
  setTimeoutAfterInput,
  throwIfAborted,
  withDefaults,
} from "@socket-lab/core/internal";
import { parseUdpEndpoint } from "./internal/endpoint.js";
import { TtlMap } from "./internal/ttl-map.js";
import { encodeRequestFrame, tryDecodeRequestFrame } from "./request-frame.js";
import type { Datagram, UdpSocket } from "./socket.js";

/**
 * The waits for a reply when `backoff` leaves a field out: the first try waits 1 s, each next
 * one twice as long, at most 10 s. The shape is core's {@link BackoffOptions}.
 * @example
 * DEFAULT_REQUEST_BACKOFF //=> { initialMs: 1000, factor: 2, maxMs: 10000 }
 */
export const DEFAULT_REQUEST_BACKOFF: Readonly<Required<BackoffOptions>> = Object.freeze({
  initialMs: 1_000,
  factor: 2,
  maxMs: 10_000,
});
/**
 * Default number of resends after the first try (4 tries in all): 3, since nothing under UDP
 * resends a lost datagram.
 */
export const DEFAULT_REQUEST_RETRIES = 3;
/** @deprecated Now `DEFAULT_REQUEST_BACKOFF.initialMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = DEFAULT_REQUEST_BACKOFF.initialMs;
/** @deprecated Now `DEFAULT_REQUEST_BACKOFF.maxMs`. */
export const DEFAULT_MAX_REQUEST_TIMEOUT_MS = DEFAULT_REQUEST_BACKOFF.maxMs;

/** How many finished request ids are remembered to tell duplicate and late replies apart. */
const REMEMBERED_IDS = 1_024;

/** Options of {@link createRequester}: defaults for every request it sends. */
export interface RequesterOptions {
  /**
   * Where requests go.
   * @default the socket's connected peer; an unconnected socket needs `to` here or per request
   */
  to?: string | Endpoint;
  /**
   * Resends after the first try; `retries: 3` means at most 4 tries. 3 by default: nothing
   * under UDP resends a lost datagram.
   * @default DEFAULT_REQUEST_RETRIES (3)
   */
  retries?: number;
  /**
   * How long each try waits for a reply before the next one is sent, in ms: try n (from 0)
   * waits `min(initialMs × factor^n, maxMs)`; `factor: 1` waits the same every time. A field
   * left out keeps the requester's (then the default's).
   * @default DEFAULT_REQUEST_BACKOFF ({ initialMs: 1000, factor: 2, maxMs: 10000 })
   */
  backoff?: BackoffOptions;
  /**
   * Receives errors that belong to no request: an error the socket reports (`ECONNREFUSED`)
   * while no request waits. Pending requests reject with it instead.
   * @default none: a process warning (one line on stderr), never a crash
   */
  onError?: (error: SocketError) => void;
}

/** Options of one {@link Requester.request}: the requester's, overridden, plus a signal. */
export interface RequestOptions extends RequesterOptions {
  /**
   * Cancels the request: it rejects with `signal.reason` (a DOMException `AbortError` for
   * `controller.abort()`) and sends no more tries.
   * @default none
   */
  signal?: AbortSignal;
}

/** Counters of one requester; they only grow. */
export interface RequesterStats {
  /** request() calls that sent a first try. */
  requests: number;
  /** Request datagrams sent: first tries and retries. */
  tries: number;
  /** Requests answered. */
  replies: number;
  /** Requests that failed with `ERR_TIMEOUT`. */
  timeouts: number;
  /** Replies to a request already answered (the server answered twice, or a retry was answered too). */
  duplicateReplies: number;
  /** Replies to a request that had already timed out, failed or been aborted. */
  lateReplies: number;
  /** Replies with an id this requester is not waiting for and does not remember, or from another address. */
  unmatchedReplies: number;
  /** Datagrams not in the header format, or requests rather than replies: ignored. */
  invalid: number;
}

/** Sends requests over one socket and matches replies to them by id. */
export interface Requester {
  /**
   * Sends `data` as a request and resolves with the first reply: its payload and its sender.
   * @throws (rejects) {SocketError} `ERR_TIMEOUT` when every try went unanswered, saying how
   *   many tries over how long; `ECONNREFUSED` on a connected socket whose peer port is closed;
   *   `ERR_DATAGRAM_TOO_LARGE` when `data` plus the 8-byte header is over the socket's
   *   `maxPayloadBytes`; `signal.reason` when `signal` fires; `ERR_SOCKET_CLOSED` once the requester or socket is closed.
   *   {TypeError}/{RangeError} for bad options.
   */
  request(data: Uint8Array | string, options?: RequestOptions): Promise<Datagram>;
  /** The counters, a snapshot taken when read. */
  readonly stats: Readonly<RequesterStats>;
  /**
   * Stops reading the socket (which stays open) and rejects pending requests with
   * `ERR_SOCKET_CLOSED`; resolves once the requester has stopped reading. Idempotent.
   */
  close(): Promise<void>;
  /** `await using requester = createRequester(…)` calls `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULTS = {
  retries: DEFAULT_REQUEST_RETRIES,
  backoff: DEFAULT_REQUEST_BACKOFF as Required<BackoffOptions>,
};

type Settings = Omit<RequestOptions, "backoff"> & typeof DEFAULTS;

/** `base` overridden by `options`; `backoff` field by field. */
function _mergeSettings(base: Settings, options: RequestOptions): Settings {
  const merged = withDefaults(base, options) as Settings;
  merged.backoff = withDefaults(base.backoff, _backoffObject(options.backoff));
  return merged;
}

function _backoffObject(backoff: unknown): BackoffOptions {
  if (backoff === undefined) return {};
  if (typeof backoff !== "object" || backoff === null) {
    throw invalidArgType("backoff", "of type object ({ initialMs, factor, maxMs })", backoff);
  }
  return backoff;
}

interface Pending {
  /** The destination, or `undefined` on a connected socket (the kernel filters senders there). */
  readonly to: InetEndpoint | undefined;
  finish(error: unknown, reply?: Datagram): void;
}

/**
 * Sends requests over `socket` and reads every datagram the socket receives for the replies;
 * do not iterate the socket yourself while a requester reads it.
 *
 * @throws {TypeError}/{RangeError} naming a bad option.
 * @example
 * await using server = await bind("udp://127.0.0.1:0"); // say udp://127.0.0.1:7001
 * const serving = serveRequests(server, () => "pong");
 * await using socket = await bind("udp://127.0.0.1:0", { connect: server.local });
 * await using requester = createRequester(socket, { backoff: { initialMs: 500 } });
 * const reply = await requester.request("ping");
 * reply.data.toString() //=> "pong"
 * // with nobody there: SocketError ECONNREFUSED here; unconnected, after 4 tries:
 * // SocketError ERR_TIMEOUT "no reply from 127.0.0.1:7001 after 4 tries over 7.5 s"
 */
export function createRequester(socket: UdpSocket, options: RequesterOptions = {}): Requester {
  return new _Requester(socket, _checkSettings(_mergeSettings(DEFAULTS, options)));
}

function _checkSettings(settings: Settings): Settings {
  checkInteger("retries", settings.retries, 0, 1_000);
  checkNumber("backoff.initialMs", settings.backoff.initialMs, 1, MAX_TIMER_MS);
  checkNumber("backoff.factor", settings.backoff.factor, 1, Number.POSITIVE_INFINITY);
  checkNumber("backoff.maxMs", settings.backoff.maxMs, 1, MAX_TIMER_MS);
  checkOnError(settings.onError);
  if (settings.to !== undefined) parseUdpEndpoint(settings.to);
  return settings;
}

class _Requester implements Requester {
  readonly #stats: RequesterStats = {
    requests: 0,
    tries: 0,
    replies: 0,
    timeouts: 0,
    duplicateReplies: 0,
    lateReplies: 0,
    unmatchedReplies: 0,
    invalid: 0,
  };
  readonly #socket: UdpSocket;
  readonly #settings: Settings;
  readonly #pending = new Map<number, Pending>();
  /** Ids of recently finished requests: what a reply for them now means. */
  readonly #finished = new TtlMap<number, "answered" | "failed">(
    Number.POSITIVE_INFINITY,
    REMEMBERED_IDS,
  );
  readonly #iterator: AsyncIterator<Datagram>;
  readonly #stopErrors: () => void;
  #nextId = randomInt(0, 2 ** 32);
  #closed = false;
  #reading: Promise<void> = Promise.resolve();

  constructor(socket: UdpSocket, settings: Settings) {
    this.#socket = socket;
    this.#settings = settings;
    this.#iterator = socket[Symbol.asyncIterator]();
    // On a connected socket this is ECONNREFUSED: the one peer every request goes to is not
    // there, so no pending request will be answered.
    this.#stopErrors = socket.onError((error) => {
      if (this.#pending.size > 0) this.#failAll(error);
      else reportError(this.#settings.onError, error);
    });
    this.#reading = this.#read();
  }

  get stats(): Readonly<RequesterStats> {
    return { ...this.#stats };
  }

  async #read(): Promise<void> {
    // Ends when the socket is closed; socket errors come through onError() instead.
    let result = await this.#iterator.next();
    while (result.done !== true) {
      this.#onDatagram(result.value);
      result = await this.#iterator.next();
    }
    this.#stop();
  }

  #onDatagram(datagram: Datagram): void {
    const frame = tryDecodeRequestFrame(datagram.data);
    if (frame === undefined || frame.kind !== "reply") {
      this.#stats.invalid++;
      return;
    }
    const pending = this.#pending.get(frame.id);
    if (pending !== undefined && _sentBy(datagram.from, pending.to)) {
      pending.finish(undefined, { data: frame.payload, from: datagram.from });
      return;
    }
    const finished = pending === undefined ? this.#finished.get(frame.id) : undefined;
    if (finished === "answered") this.#stats.duplicateReplies++;
    else if (finished === "failed") this.#stats.lateReplies++;
    else this.#stats.unmatchedReplies++;
  }

  request(data: Uint8Array | string, options: RequestOptions = {}): Promise<Datagram> {
    let settings: Settings;
    let to: InetEndpoint | undefined;
    let frame: Buffer;
    try {
      settings = _checkSettings(_mergeSettings(this.#settings, options));
      to = settings.to === undefined ? undefined : parseUdpEndpoint(settings.to);
      if (to !== undefined && this.#socket.remote !== undefined) {
        throw invalidArgValue(
          "to",
          settings.to,
          `must be left out: the socket is connected to ${formatAddress(this.#socket.remote)}`,
        );
      }
      if (to === undefined && this.#socket.remote === undefined) {
        throw invalidArgType(
          "to",
          "an endpoint on an unconnected socket, in createRequester() or request()",
          undefined,
        );
      }
      if (this.#closed) throw _closedError();
      checkSignal(settings.signal);
      throwIfAborted(settings.signal);
      frame = encodeRequestFrame({ kind: "request", id: this.#takeId() }, data);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#run(frame, to, settings);
  }

  #run(frame: Buffer, to: InetEndpoint | undefined, settings: Settings): Promise<Datagram> {
    const id = frame.readUInt32BE(4);
    const peer = to ?? (this.#socket.remote as InetEndpoint);
    const { retries, backoff, signal } = settings;
    const started = performance.now();
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<Datagram>((resolve, reject) => {
      const onAbort = () => finish(abortReason(signal as AbortSignal));
      const finish = (error: unknown, reply?: Datagram) => {
        if (this.#pending.get(id) !== pending) return;
        this.#pending.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#finished.set(id, reply === undefined ? "failed" : "answered");
        if (reply === undefined) {
          reject(error);
        } else {
          this.#stats.replies++;
          resolve(reply);
        }
      };
      const pending: Pending = { to, finish };
      const attempt = () => {
        if (this.#pending.get(id) !== pending) return; // answered meanwhile
        tries++;
        this.#stats.tries++;
        this.#socket.send(frame, to).catch(finish);
        const wait = backoffDelay(backoff, tries - 1);
        // After the waiting input: the reply may have come while the process did not run.
        timer = setTimeoutAfterInput(tries <= retries ? attempt : giveUp, wait);
      };
      const giveUp = () => {
        if (this.#pending.get(id) !== pending) return; // answered meanwhile
        this.#stats.timeouts++;
        finish(_timeoutError(peer, tries, performance.now() - started));
      };
      this.#pending.set(id, pending);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#stats.requests++;
      attempt();
    });
  }

  #takeId(): number {
    let id = this.#nextId;
    // At most #pending.size ids are taken, so this ends.
    while (this.#pending.has(id)) id = (id + 1) >>> 0;
    this.#nextId = (id + 1) >>> 0;
    return id;
  }

  #failAll(error: unknown): void {
    for (const pending of [...this.#pending.values()]) pending.finish(error);
  }

  close(): Promise<void> {
    this.#stop();
    return this.#reading;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopErrors();
    void this.#iterator.return?.();
    this.#failAll(_closedError());
  }
}

/**
 * Whether a reply from `from` can answer a request sent to `to`. An IPv4 address must match;
 * a host name resolves to an address we never saw and an IPv6 address can be written in
 * several ways, so for those the port and the id have to do.
 */
function _sentBy(from: InetEndpoint, to: InetEndpoint | undefined): boolean {
  if (to === undefined) return true;
  return from.port === to.port && (!isIPv4(to.host) || from.host === to.host);
}

function _timeoutError(peer: InetEndpoint, tries: number, elapsedMs: number): SocketError {
  const over =
    elapsedMs < 1_000 ? `${Math.round(elapsedMs)} ms` : `${(elapsedMs / 1_000).toFixed(1)} s`;
  return new SocketError(
    ErrorCode.ERR_TIMEOUT,
    `no reply from ${formatAddress(peer)} after ${tries} ${tries === 1 ? "try" : "tries"} over ${over}`,
    {
      hint: "Is the server running at that address? An unconnected UDP socket is never told 'refused': check the host and port, or allow more retries or a longer backoff.initialMs. A running server may also refuse, without a word to you, a reply larger than the request (an amplification limit such as serveRequests' maxAmplification): pad the request to at least the reply's size.",
      address: peer.host,
      port: peer.port,
    },
  );
}

function _closedError(): SocketError {
  return new SocketError(ErrorCode.ERR_SOCKET_CLOSED, "the requester or its socket is closed", {
    hint: "Create a new requester on an open socket.",
  });
}
