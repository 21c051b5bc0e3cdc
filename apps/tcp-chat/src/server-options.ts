/**
 * The options, events, counters and defaults of the chat server; the socket story itself is
 * server.ts, and what the room does with each line is room.ts.
 */

import { DEFAULT_HOST, type Endpoint, isValidHost, type TraceListener } from "@socket-lab/core";
import {
  checkInteger,
  checkString,
  invalidArgValue,
  MAX_TIMER_MS,
  outOfRange,
  withDefaults,
} from "@socket-lab/core/internal";
import { CHAT_PORT, type LeaveReason } from "./protocol.js";

/** Most clients in the room at once. */
export const CHAT_MAX_CLIENTS = 100;
/** Longest message a client may send, in bytes of UTF-8. */
export const CHAT_MAX_LINE_BYTES = 1_024;
/** How long a client may send nothing before it is disconnected, in ms: 10 minutes. */
export const CHAT_IDLE_TIMEOUT_MS = 600_000;
/** Most bytes waiting to be sent to one client; senders wait while a line does not fit. */
export const CHAT_QUEUE_LIMIT_BYTES = 64 * 1024;
/**
 * How long a client's full queue may take nothing (its client reads nothing) while a sender
 * waits for room, before the client is dropped, in ms: 5 seconds.
 */
export const CHAT_STALL_TIMEOUT_MS = 5_000;
/** Most lines waiting to be sent to one client, however short: each one costs memory. */
export const QUEUE_LIMIT_LINES = 4_096;

/**
 * Bytes a line from the server may carry beyond a client's line (the `<nickname> ` prefix): the
 * queue limit must be at least `maxLineBytes` plus this.
 */
export const PREFIX_BYTES = 64;

/**
 * Connections accepted beyond `maxClients` so they can be told why they are refused; past this
 * headroom the transport closes them at once, without a word.
 */
export const REFUSAL_HEADROOM = 16;
/** Time a leaving client has to take its last lines and close its side before it is cut off, in ms. */
export const CLOSE_TIMEOUT_MS = 2_000;

/** Options of `startChatServer`. */
export interface ChatServerOptions {
  /** Address to listen on: an IP address or host name. @default "127.0.0.1" */
  host?: string;
  /** Port to listen on; 0 lets the system choose one (see `ChatServer.endpoint`). @default 7002 */
  port?: number;
  /**
   * Listen on this unix domain socket file instead (AF_UNIX: "locally, on a single machine");
   * `host` and `port` are then not used. A file left by a server that is gone is replaced; a
   * live server's socket, or a file that is not a socket, is an error. @default undefined (TCP)
   */
  unix?: string;
  /**
   * Most clients in the room at once. One more is sent `! error: server is full …` and closed.
   * @default 100
   */
  maxClients?: number;
  /**
   * Longest message a client may send, in bytes of UTF-8 without the `\n`. A longer one is not
   * passed on: its sender gets an error line and stays. (Commands are short and not counted.)
   * Any line over the transport's limit, 4 × this and at least 64 KiB, ends the connection:
   * the server never holds more of one line than that.
   * @default 1024
   */
  maxLineBytes?: number;
  /** Time a client may send nothing before it is disconnected, in ms; 0 disables. @default 600000 */
  idleTimeoutMs?: number;
  /**
   * Most bytes waiting to be sent to one client: queued by the room and not yet taken by the
   * kernel. (At most QUEUE_LIMIT_LINES lines wait, too.) While a line a client sends might not
   * fit in every queue, the server stops reading that client: the sender is throttled, and
   * nobody's lines are lost. Notices of joins and leaves never wait: they may take a queue up
   * to twice its limits, and a client past that is dropped at once.
   * @default 65536
   */
  queueLimitBytes?: number;
  /**
   * Time a client's full queue may take nothing (the client reads nothing) while a sender waits
   * for room, in ms. Then the client is sent `! error: you read nothing for 5 s while your
   * queue was full; disconnecting`, dropped, and the room told `* NAME left (too slow)`: one
   * silent client holds the others back for at most this long.
   * @default 5000
   */
  stallTimeoutMs?: number;
  /** Receives the socket lifecycle (bind, listen, accept, recv, send, close) for `--trace`. */
  trace?: TraceListener;
  /** Receives what happens in the room, e.g. to print a log. Called synchronously. */
  onEvent?: (event: ChatEvent) => void;
}

/** Something that happened in the room. */
export type ChatEvent =
  | { readonly type: "join"; readonly nick: string; readonly remote: Endpoint }
  | { readonly type: "message"; readonly nick: string; readonly text: string }
  | { readonly type: "rename"; readonly from: string; readonly to: string }
  | { readonly type: "leave"; readonly nick: string; readonly reason: LeaveReason }
  | { readonly type: "refuse"; readonly remote: Endpoint };

/** Counters of a {@link ChatServer}, updated as things happen. */
export interface ChatServerStats {
  /** Clients in the room now. */
  readonly clients: number;
  /** Clients that ever joined. */
  readonly joined: number;
  /** Connections refused because the room was full. */
  readonly refused: number;
  /** Clients dropped because they stopped reading (their queue stalled, or overflowed). */
  readonly dropped: number;
  /** Lines whose sender had to wait for room in someone's queue before they were handled. */
  readonly throttled: number;
  /** Messages over `maxLineBytes` that were answered with an error instead of passed on. */
  readonly linesTooLong: number;
  /**
   * The most bytes ever waiting to be sent to one client, in bytes; only notices take it over
   * `queueLimitBytes`.
   */
  readonly peakQueuedBytes: number;
}

/** A running chat server. */
export interface ChatServer {
  /** The bound endpoint, with the real port when 0 was asked for. */
  readonly endpoint: Endpoint;
  readonly stats: ChatServerStats;
  /** The nicknames in the room, sorted. */
  users(): string[];
  /** Tells every client `* server shutting down`, closes their connections, stops listening. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The options with their defaults applied. */
export type ChatSettings = Required<Omit<ChatServerOptions, "trace" | "onEvent" | "unix">> &
  Pick<ChatServerOptions, "trace" | "onEvent" | "unix">;

const DEFAULTS: Required<Omit<ChatServerOptions, "trace" | "onEvent" | "unix">> = {
  host: DEFAULT_HOST,
  port: CHAT_PORT,
  maxClients: CHAT_MAX_CLIENTS,
  maxLineBytes: CHAT_MAX_LINE_BYTES,
  idleTimeoutMs: CHAT_IDLE_TIMEOUT_MS,
  queueLimitBytes: CHAT_QUEUE_LIMIT_BYTES,
  stallTimeoutMs: CHAT_STALL_TIMEOUT_MS,
};

/**
 * Applies the defaults, once, and checks the result.
 * @throws {TypeError | RangeError} for a bad option, naming it and its value.
 */
export function chatSettings(options: ChatServerOptions): ChatSettings {
  const settings = withDefaults(DEFAULTS, options);
  checkOptions(settings);
  return settings;
}

/** Where the server listens: the unix socket file, or host and port. */
export function chatEndpoint(settings: ChatSettings): Endpoint {
  return settings.unix !== undefined
    ? { transport: "unix", path: settings.unix }
    : { transport: "tcp", host: settings.host, port: settings.port };
}

function checkOptions(settings: ChatSettings): void {
  if (!isValidHost(checkString("host", settings.host))) {
    throw invalidArgValue("host", settings.host, "must be an IP address or host name");
  }
  const ranges = {
    port: [0, 65_535],
    maxClients: [1, 100_000],
    maxLineBytes: [1, 1024 * 1024],
    idleTimeoutMs: [0, MAX_TIMER_MS],
    queueLimitBytes: [1, 1024 ** 3],
    stallTimeoutMs: [1, MAX_TIMER_MS],
  } as const;
  for (const [name, [min, max]] of Object.entries(ranges)) {
    checkInteger(name, settings[name as keyof typeof ranges], min, max);
  }
  // Every client must be able to hold at least one whole message.
  if (settings.queueLimitBytes < settings.maxLineBytes + PREFIX_BYTES) {
    throw outOfRange(
      "queueLimitBytes",
      `an integer >= maxLineBytes + ${PREFIX_BYTES} (${settings.maxLineBytes + PREFIX_BYTES})`,
      settings.queueLimitBytes,
    );
  }
}
