/**
 * The server half of request/response over datagrams: answers each request with the
 * handler's reply under the request's id, and answers a retried request (same sender, same
 * id) from a cache instead of running the handler again.
 *
 * What "at most once" really means: the cache holds the last `dedupMaxEntries` requests from
 * all senders together, each for `dedupWindowMs`. A retry finds its request there only if
 * fewer than `dedupMaxEntries` requests (from anyone) arrived since the first try; otherwise
 * the entry was evicted (counted in `stats.evicted`) and the retry runs the handler again. A
 * handler that must never run twice needs its own record, keyed by something the request
 * carries.
 *
 * Amplification: a UDP sender's address can be forged. A server whose replies are larger than
 * the requests lets an attacker aim those replies at a victim (a reflection attack) and
 * multiply its own bandwidth. So by default a reply may be no larger than its request
 * (`maxAmplification: 1`); a larger one is refused, counted, reported, and not sent. The limit
 * applies to every reply datagram against the request that triggers it, a cached reply to a
 * retry included: a big request followed by small ones with its id gets nothing back.
 */

import { ErrorCode, formatAddress, SocketError } from "@socket-lab/core";
import {
  checkFunction,
  checkInteger,
  checkNumber,
  checkOnError,
  reportError,
  withDefaults,
} from "@socket-lab/core/internal";
import { payloadSize } from "./internal/options.js";
import { TtlMap } from "./internal/ttl-map.js";
import {
  encodeRequestFrame,
  REQUEST_HEADER_BYTES,
  tryDecodeRequestFrame,
} from "./request-frame.js";
import type { Datagram, UdpSocket } from "./socket.js";

/** Default time a reply is kept to answer retries of its request, in ms. */
export const DEFAULT_DEDUP_WINDOW_MS = 30_000;
/**
 * Default most requests remembered for de-duplication, from all senders together; the oldest
 * is forgotten first (and counted in `stats.evicted` when its window had not ended).
 */
export const DEFAULT_DEDUP_MAX_ENTRIES = 1_024;
/** Default largest reply datagram as a multiple of its request datagram's size. */
export const DEFAULT_MAX_AMPLIFICATION = 1;
/** Default most handler calls running at once. */
export const DEFAULT_MAX_IN_FLIGHT = 256;

/**
 * Answers one request: gets its payload (header removed) and sender, returns the reply payload.
 * It runs at most once per (sender, id) while that request is remembered: within
 * `dedupWindowMs`, and until `dedupMaxEntries` newer requests (from any sender) push it out.
 */
export type RequestHandler = (
  request: Datagram,
) => Uint8Array | string | Promise<Uint8Array | string>;

/** Options of {@link serveRequests}. */
export interface ServeRequestsOptions {
  /**
   * How long a request is remembered, in ms, so that its retries get the cached reply and the
   * handler is not run again. Make it longer than clients keep retrying (their tries' waits
   * added up: 15 s for the requester's defaults).
   * @default 30000
   */
  dedupWindowMs?: number;
  /**
   * Most requests remembered at once, from all senders together; beyond it the oldest is
   * forgotten even inside its window (counted in `stats.evicted`), and a retry of it runs the
   * handler again. Memory is at most this many cached replies (64 MiB for 1,024 replies of the
   * largest size).
   * @default 1024
   */
  dedupMaxEntries?: number;
  /**
   * Largest reply datagram as a multiple of its request datagram's size, headers included.
   * Checked against the datagram that triggers each reply: the first try, and each retry
   * answered from the cache. Keeps the server from amplifying reflection attacks; `Infinity`
   * turns the check off.
   * @default 1
   */
  maxAmplification?: number;
  /** Most handler calls running at once; a request beyond it is dropped and counted in `busy`. @default 256 */
  maxInFlight?: number;
  /**
   * Told about every error that belongs to no caller: a request that got no reply through a
   * fault (the handler threw, the reply — fresh or cached — was refused for `maxAmplification`
   * with `ERR_DATAGRAM_TOO_LARGE`, or it failed to send), with that request; and an error the
   * socket reported (`ECONNREFUSED`), with no request. Each is counted in `stats.errors` or
   * `stats.refused` as well.
   * @default none: a process warning (one line on stderr, a handler's stack as detail), never a crash
   */
  onError?: (error: unknown, request: Datagram | undefined) => void;
}

/** Counters of one request server; they only grow. */
export interface RequestServerStats {
  /** Valid requests received, retries included. */
  requests: number;
  /** Handler calls. */
  handled: number;
  /** Retried requests (same sender and id within the window) that did not run the handler. */
  duplicates: number;
  /**
   * Requests forgotten before `dedupWindowMs` ended, pushed out by `dedupMaxEntries` newer
   * ones: a retry of each would run the handler again.
   */
  evicted: number;
  /** Reply datagrams sent, cached replies sent again included. */
  replies: number;
  /** Datagrams not in the header format, or replies rather than requests: ignored. */
  invalid: number;
  /**
   * Reply datagrams not sent for being over `maxAmplification` times the size of the request
   * datagram that triggered them (a first try, or a retry answered from the cache).
   */
  refused: number;
  /** Handler throws, failed sends, and errors the socket reported (see `UdpSocket.onError`). */
  errors: number;
  /** Requests dropped because `maxInFlight` handler calls were running. */
  busy: number;
}

/** A running request server. */
export interface RequestServer {
  /** The counters, a snapshot taken when read. */
  readonly stats: Readonly<RequestServerStats>;
  /**
   * Stops reading the socket (which stays open); replies still being computed are not sent.
   * Resolves once the server has stopped reading. Idempotent.
   */
  close(): Promise<void>;
  /** `await using server = serveRequests(…)` calls `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULTS = {
  dedupWindowMs: DEFAULT_DEDUP_WINDOW_MS,
  dedupMaxEntries: DEFAULT_DEDUP_MAX_ENTRIES,
  maxAmplification: DEFAULT_MAX_AMPLIFICATION,
  maxInFlight: DEFAULT_MAX_IN_FLIGHT,
};

/** A request seen within the window: its reply once there is one. */
interface Seen {
  reply: Buffer | undefined;
}

/**
 * Answers requests that arrive on `socket` with `handler`'s replies. Reads every datagram the
 * socket receives; do not iterate the socket yourself meanwhile. Datagrams that are not
 * requests are counted and ignored. The handler runs at most once per (sender, id) while the
 * request is remembered — within `dedupWindowMs` and among the last `dedupMaxEntries` requests
 * from all senders: a retry gets the cached reply (if it passes `maxAmplification` against the
 * retry's own size), or nothing while the first call is running or when it failed.
 *
 * @throws {TypeError}/{RangeError} naming a bad option.
 * @example
 * await using socket = await bind("udp://127.0.0.1:0"); // say udp://127.0.0.1:7001
 * await using server = serveRequests(socket, (request) => `pong ${request.data}`, { maxAmplification: 3 });
 * await using client = await bind("udp://127.0.0.1:0", { connect: socket.local });
 * await using requester = createRequester(client);
 * `${(await requester.request("ping")).data}` //=> "pong ping"
 * server.stats //=> { requests: 1, handled: 1, duplicates: 0, evicted: 0, replies: 1, invalid: 0, refused: 0, errors: 0, busy: 0 }
 */
export function serveRequests(
  socket: UdpSocket,
  handler: RequestHandler,
  options: ServeRequestsOptions = {},
): RequestServer {
  checkFunction("handler argument", handler);
  const settings = withDefaults(DEFAULTS, options);
  checkNumber("dedupWindowMs", settings.dedupWindowMs, 0, Number.POSITIVE_INFINITY);
  checkInteger("dedupMaxEntries", settings.dedupMaxEntries, 0, 2 ** 31 - 1);
  checkNumber("maxAmplification", settings.maxAmplification, 0, Number.POSITIVE_INFINITY);
  checkInteger("maxInFlight", settings.maxInFlight, 1, 2 ** 31 - 1);
  checkOnError(settings.onError);
  return new _RequestServer(socket, handler, settings);
}

class _RequestServer implements RequestServer {
  readonly #stats: RequestServerStats = {
    requests: 0,
    handled: 0,
    duplicates: 0,
    evicted: 0,
    replies: 0,
    invalid: 0,
    refused: 0,
    errors: 0,
    busy: 0,
  };
  readonly #socket: UdpSocket;
  readonly #handler: RequestHandler;
  readonly #settings: typeof DEFAULTS & ServeRequestsOptions;
  readonly #seen: TtlMap<string, Seen>;
  readonly #iterator: AsyncIterator<Datagram>;
  readonly #stopErrors: () => void;
  #inFlight = 0;
  #closed = false;
  #reading: Promise<void> = Promise.resolve();

  constructor(
    socket: UdpSocket,
    handler: RequestHandler,
    settings: typeof DEFAULTS & ServeRequestsOptions,
  ) {
    this.#socket = socket;
    this.#handler = handler;
    this.#settings = settings;
    this.#seen = new TtlMap(settings.dedupWindowMs, settings.dedupMaxEntries);
    this.#iterator = socket[Symbol.asyncIterator]();
    // A socket error is not about any one request: counted, reported, and the server goes on.
    this.#stopErrors = socket.onError((error) => {
      this.#stats.errors++;
      this.#report(error, undefined);
    });
    this.#reading = this.#read();
  }

  get stats(): Readonly<RequestServerStats> {
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
    if (frame === undefined || frame.kind !== "request") {
      this.#stats.invalid++;
      return;
    }
    this.#stats.requests++;
    const request: Datagram = { data: frame.payload, from: datagram.from };
    const key = `${datagram.from.host} ${datagram.from.port} ${frame.id}`;
    const seen = this.#seen.get(key);
    if (seen !== undefined) {
      this.#stats.duplicates++;
      if (seen.reply !== undefined && this.#allowed(seen.reply.length, datagram, request)) {
        this.#send(seen.reply, datagram);
      }
      return;
    }
    if (this.#inFlight >= this.#settings.maxInFlight) {
      this.#stats.busy++;
      return;
    }
    const entry: Seen = { reply: undefined };
    this.#seen.set(key, entry);
    this.#stats.evicted = this.#seen.evicted;
    void this.#answer(entry, frame.id, request, datagram);
  }

  async #answer(entry: Seen, id: number, request: Datagram, datagram: Datagram): Promise<void> {
    this.#inFlight++;
    this.#stats.handled++;
    try {
      const payload = await this.#handler(request);
      if (!this.#allowed(REQUEST_HEADER_BYTES + payloadSize(payload), datagram, request)) return;
      entry.reply = encodeRequestFrame({ kind: "reply", id }, payload);
      this.#send(entry.reply, datagram);
    } catch (error) {
      this.#stats.errors++;
      this.#report(error, request);
    } finally {
      this.#inFlight--;
    }
  }

  /**
   * Whether a reply of `size` bytes may answer `datagram` (the request as received, header
   * included); if not, counts and reports the refusal.
   */
  #allowed(size: number, datagram: Datagram, request: Datagram): boolean {
    const factor = this.#settings.maxAmplification;
    if (size <= factor * datagram.data.length) return true;
    this.#stats.refused++;
    this.#report(_amplificationError(size, datagram, factor), request);
    return false;
  }

  #send(reply: Buffer, request: Datagram): void {
    if (this.#closed) return;
    const sent =
      this.#socket.remote === undefined
        ? this.#socket.send(reply, request.from)
        : this.#socket.send(reply);
    sent.then(
      () => {
        this.#stats.replies++;
      },
      (error: unknown) => {
        this.#stats.errors++;
        this.#report(error, request);
      },
    );
  }

  #report(error: unknown, request: Datagram | undefined): void {
    const { onError } = this.#settings;
    // A handler's bug is shown with its stack; a socket's error is one line.
    const stack = error instanceof SocketError ? undefined : (error as Error | null)?.stack;
    reportError(onError && ((e: unknown) => onError(e, request)), error, stack);
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
  }
}

function _amplificationError(size: number, request: Datagram, factor: number): SocketError {
  const requestSize = request.data.length;
  return new SocketError(
    ErrorCode.ERR_DATAGRAM_TOO_LARGE,
    `reply of ${size} bytes to a ${requestSize}-byte request from ${formatAddress(request.from)} exceeds maxAmplification ${factor} (at most ${Math.floor(factor * requestSize)} bytes); not sent`,
    {
      hint: "Keep replies no larger than requests (a forged sender address would turn a larger reply into a reflection attack), have clients pad their requests, or raise maxAmplification.",
    },
  );
}
