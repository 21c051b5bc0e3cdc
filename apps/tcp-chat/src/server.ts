/**
 * tcp-chat server: many clients attached to one stream socket server.
 *
 * What it shows: `accept` hands back one new socket per client while the listening socket goes
 * on accepting, so one process talks to many peers at once. Every line a client sends is copied
 * to every other client. Copying means buffering, and the buffer for each client is bounded (see
 * outbox.ts): while a line from a sender does not fit in every queue, the server stops reading
 * that sender, so TCP's flow control slows the sender down, not the readers. Only a client whose
 * full queue takes nothing for the stall timeout (5 s) is dropped, told why in a last line.
 *
 * Run it, then join from three more terminals (or with `nc 127.0.0.1 7002`):
 *
 *   pnpm chat:server                  # terminal 1: listening on tcp://127.0.0.1:7002
 *   pnpm chat:client --nick alice     # terminals 2, 3, 4
 *
 * The line protocol is described in protocol.ts.
 */

import {
  DEFAULT_HOST,
  type Endpoint,
  explain,
  isValidHost,
  type TraceListener,
} from "@socket-lab/core";
import { withDefaults } from "@socket-lab/core/cli";
import { type Connection, lines, listen } from "@socket-lab/tcp";
import { Outbox } from "./outbox.js";
import { DEFAULT_CHAT_PORT, type LeaveReason, line, parseClientLine } from "./protocol.js";

/** Most clients in the room at once. */
export const DEFAULT_MAX_CLIENTS = 100;
/** Longest message a client may send, in bytes of UTF-8. */
export const DEFAULT_MAX_LINE_BYTES = 1_024;
/** How long a client may send nothing before it is disconnected, in ms: 10 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 600_000;
/** Most bytes waiting to be sent to one client; senders wait while a line does not fit. */
export const DEFAULT_QUEUE_LIMIT_BYTES = 64 * 1024;
/**
 * How long a client's full queue may take nothing (its client reads nothing) while a sender
 * waits for room, before the client is dropped, in ms: 5 seconds.
 */
export const DEFAULT_STALL_TIMEOUT_MS = 5_000;
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
const REFUSAL_HEADROOM = 16;
/** Time a leaving client has to take its last lines and close its side before it is cut off, in ms. */
const CLOSE_TIMEOUT_MS = 2_000;

/** Options of {@link startChatServer}. */
export interface ChatServerOptions {
  /** Address to listen on: an IP address or host name. @default "127.0.0.1" */
  host?: string;
  /** Port to listen on; 0 lets the system choose one (see `ChatServer.endpoint`). @default 7002 */
  port?: number;
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

const DEFAULTS: Required<Omit<ChatServerOptions, "trace" | "onEvent">> = {
  host: DEFAULT_HOST,
  port: DEFAULT_CHAT_PORT,
  maxClients: DEFAULT_MAX_CLIENTS,
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  queueLimitBytes: DEFAULT_QUEUE_LIMIT_BYTES,
  stallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS,
};

/** One client in the room. */
interface Member {
  nick: string;
  readonly connection: Connection<string>;
  /** Lines waiting to be sent to it, bounded. */
  readonly outbox: Outbox;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * Starts a chat server and resolves once it is listening.
 *
 * @throws {TypeError | RangeError} for a bad option, naming it and its value.
 * @throws {SocketError} when the port cannot be bound (`EADDRINUSE`, `EACCES`, …).
 * @example
 * const chat = await startChatServer({ port: 0 });
 * console.log(`listening on ${formatEndpoint(chat.endpoint)}`);
 * //=> listening on tcp://127.0.0.1:40321
 * await chat.close();
 */
export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const settings = withDefaults(DEFAULTS, options);
  checkOptions(settings);
  const { maxClients, maxLineBytes, idleTimeoutMs, queueLimitBytes, stallTimeoutMs, onEvent } =
    settings;
  // The most one line from a client may add to any queue: its message with the `<nick> `
  // prefix, or an answer to it (errors, the /who list).
  const lineRoom = maxLineBytes + PREFIX_BYTES;

  const members = new Set<Member>();
  const byNick = new Map<string, Member>(); // lower-cased nickname → member: names clash ignoring case
  let guests = 0;
  let shuttingDown = false;
  const stats = {
    clients: 0,
    joined: 0,
    refused: 0,
    dropped: 0,
    throttled: 0,
    linesTooLong: 0,
    peakQueuedBytes: 0,
  };

  // socket + bind + listen. The transport's own connection limit sits a little above the room's,
  // so that a client over the room's limit is still accepted and told why it is turned away.
  const server = await listen<string>(
    { transport: "tcp", host: settings.host, port: settings.port },
    {
      framing: lines({ maxLineBytes: Math.max(64 * 1024, 4 * maxLineBytes) }),
      maxConnections: maxClients + REFUSAL_HEADROOM,
      // Idleness is the room's business (a client that only listens counts as idle here), and
      // the room says why before it closes: see resetIdleTimer.
      idleTimeoutMs: 0,
      // send() waits until the kernel has taken everything: how each Outbox sees progress.
      highWaterMark: 0,
      trace: settings.trace,
      handler: (connection) => serve(connection),
    },
  );
  server.on("reject", ({ remote }) => {
    stats.refused += 1;
    onEvent?.({ type: "refuse", remote });
  });

  // accept() gave us a connected socket for one client: this runs once per client.
  async function serve(connection: Connection<string>): Promise<void> {
    if (members.size >= maxClients) {
      stats.refused += 1;
      onEvent?.({ type: "refuse", remote: connection.remote });
      // send the reason, then close: the client reads the line before it sees the end of stream.
      void connection.send(line.full(maxClients));
      await connection.close({ timeoutMs: CLOSE_TIMEOUT_MS });
      return;
    }
    const member = join(connection);
    let reason: LeaveReason = "closed";
    try {
      // recv, one line at a time. The loop ends when the client half-closes (EOF), or when the
      // server closes the connection after the member has left.
      for await (const text of connection) {
        // Throttle: while its line might not fit in every queue, this client is not read. Its
        // lines pile up in the kernel, TCP's window closes, and the client's send() waits.
        if (!everyoneHasRoom()) await waitForRoom();
        if (members.has(member)) handleLine(member, text);
      }
    } catch (err) {
      reason = explain(err).code === "ECONNRESET" ? "reset" : "error";
    }
    leave(member, reason);
  }

  function join(connection: Connection<string>): Member {
    do guests += 1;
    while (byNick.has(`guest${guests}`));
    const member: Member = {
      nick: `guest${guests}`,
      connection,
      outbox: new Outbox(connection, {
        limitBytes: queueLimitBytes,
        limitLines: QUEUE_LIMIT_LINES,
        stallTimeoutMs,
        onStall: () =>
          drop(
            member,
            `you read nothing for ${formatSeconds(stallTimeoutMs)} while your queue was full`,
          ),
      }),
      idleTimer: undefined,
    };
    broadcast(line.joined(member.nick));
    members.add(member);
    byNick.set(member.nick, member);
    stats.clients = members.size;
    stats.joined += 1;
    deliver(member, line.welcome(member.nick, members.size));
    resetIdleTimer(member);
    onEvent?.({ type: "join", nick: member.nick, remote: connection.remote });
    return member;
  }

  function handleLine(member: Member, text: string): void {
    resetIdleTimer(member);
    const request = parseClientLine(text);
    switch (request.type) {
      case "empty":
        return;
      case "message": {
        // Measured as passed on, escapes included (`\x1b` is 4 bytes), so what the room holds
        // for each member stays within maxLineBytes + PREFIX_BYTES.
        const bytes = Buffer.byteLength(request.text);
        if (bytes > maxLineBytes) {
          stats.linesTooLong += 1;
          deliver(
            member,
            line.error(`line of ${bytes} bytes is over the limit of ${maxLineBytes}; not sent`),
          );
          return;
        }
        onEvent?.({ type: "message", nick: member.nick, text: request.text });
        broadcast(line.message(member.nick, request.text), member);
        return;
      }
      case "who":
        deliver(member, line.users([...byNick.values()].map((m) => m.nick).sort(), maxLineBytes));
        return;
      case "nick":
        rename(member, request.nick);
        return;
      case "quit":
        leave(member, "quit", line.bye());
        return;
      case "invalid":
        deliver(member, line.error(request.error));
        return;
    }
  }

  function rename(member: Member, nick: string): void {
    const holder = byNick.get(nick.toLowerCase());
    if (holder !== undefined && holder !== member) {
      deliver(member, line.error(`nickname '${nick}' is taken; you are still ${member.nick}`));
      return;
    }
    if (nick === member.nick) return;
    const from = member.nick;
    byNick.delete(from.toLowerCase());
    byNick.set(nick.toLowerCase(), member);
    member.nick = nick;
    broadcast(line.renamed(from, nick));
    onEvent?.({ type: "rename", from, to: nick });
  }

  /**
   * Takes a member out of the room, tells the others, and closes its connection after its
   * queued lines and `lastLine`. Idempotent.
   */
  function leave(member: Member, reason: LeaveReason, lastLine?: string): void {
    if (!members.delete(member)) return;
    byNick.delete(member.nick.toLowerCase());
    stats.clients = members.size;
    clearTimeout(member.idleTimer);
    // A member too slow to read never gets the lines still queued: they are freed.
    if (reason === "slow") member.outbox.clear();
    member.outbox.end(lastLine);
    // shutdown(SHUT_WR) once its last lines are sent, then close(fd); a client that does not
    // take them and close its side within CLOSE_TIMEOUT_MS is cut off.
    void member.connection.close({ timeoutMs: CLOSE_TIMEOUT_MS });
    if (!shuttingDown) broadcast(line.left(member.nick, reason));
    onEvent?.({ type: "leave", nick: member.nick, reason });
  }

  function resetIdleTimer(member: Member): void {
    if (idleTimeoutMs === 0) return;
    if (member.idleTimer !== undefined) {
      member.idleTimer.refresh();
      return;
    }
    member.idleTimer = setTimeout(() => {
      leave(member, "idle", line.error(`idle for ${formatSeconds(idleTimeoutMs)}; disconnecting`));
    }, idleTimeoutMs);
  }

  /** Whether every queue in the room has room for what one more line from a client may bring. */
  function everyoneHasRoom(): boolean {
    for (const member of members) if (!member.outbox.hasRoom(lineRoom)) return false;
    return true;
  }

  /**
   * Waits until every queue has room for a line: the full ones must see the kernel take some of
   * their lines, or their members leave (one that takes nothing for the stall timeout is dropped).
   */
  async function waitForRoom(): Promise<void> {
    stats.throttled += 1;
    // Each turn waits for the kernel to take bytes for someone, or for someone to leave; a
    // queue still full stays waited on, so its stall clock runs on.
    while (!everyoneHasRoom()) {
      const full = [...members].filter((member) => !member.outbox.hasRoom(lineRoom));
      await Promise.race(full.map((member) => member.outbox.progress()));
    }
  }

  /** Sends a line to everyone in the room but `except`. */
  function broadcast(text: string, except?: Member): void {
    const bytes = Buffer.byteLength(text) + 1;
    const overflowing: Member[] = [];
    for (const member of members) {
      if (member !== except && !send(member, text, bytes)) overflowing.push(member);
    }
    // Dropping one tells the room, which is another broadcast: do it once this one is complete.
    for (const member of overflowing) overflow(member);
  }

  /** Sends a line to one member. */
  function deliver(member: Member, text: string): void {
    if (!send(member, text, Buffer.byteLength(text) + 1)) overflow(member);
  }

  /**
   * send: queues a line of `bytes` bytes for a member; its Outbox hands it to the connection,
   * which writes it to the kernel. Lines from clients fit: their sender waited for room
   * (waitForRoom). A notice may not: false when it would take the queue past twice its limits.
   */
  function send(member: Member, text: string, bytes: number): boolean {
    if (!member.outbox.push(text, bytes)) return false;
    stats.peakQueuedBytes = Math.max(stats.peakQueuedBytes, member.outbox.bytes);
    return true;
  }

  function overflow(member: Member): void {
    drop(member, "your queue overflowed (over twice its limit)");
  }

  /** Drops a member too slow to read: the lines queued for it are freed, and it is told why. */
  function drop(member: Member, why: string): void {
    if (!members.has(member)) return;
    stats.dropped += 1;
    leave(member, "slow", line.error(`${why}; disconnecting`));
  }

  async function close(): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const member of [...members]) leave(member, "closed", line.shuttingDown());
    // close(fd) on the listening socket, then on any connection still open.
    await server.close({ timeoutMs: CLOSE_TIMEOUT_MS });
  }

  return {
    endpoint: server.endpoint,
    stats,
    users: () => [...byNick.values()].map((m) => m.nick).sort(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function checkOptions(settings: Required<Omit<ChatServerOptions, "trace" | "onEvent">>): void {
  if (typeof settings.host !== "string" || !isValidHost(settings.host)) {
    throw new TypeError(`host must be an IP address or host name, got ${String(settings.host)}`);
  }
  const ranges = {
    port: [0, 65_535],
    maxClients: [1, 100_000],
    maxLineBytes: [1, 1024 * 1024],
    idleTimeoutMs: [0, 2 ** 31 - 1],
    queueLimitBytes: [1, 1024 ** 3],
    stallTimeoutMs: [1, 2 ** 31 - 1],
  } as const;
  for (const [name, [min, max]] of Object.entries(ranges)) {
    const value: unknown = settings[name as keyof typeof ranges];
    if (typeof value !== "number") {
      throw new TypeError(`${name} must be a number, got ${typeof value}`);
    }
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
    }
  }
  // Every client must be able to hold at least one whole message.
  if (settings.queueLimitBytes < settings.maxLineBytes + PREFIX_BYTES) {
    throw new RangeError(
      `queueLimitBytes must be at least maxLineBytes + ${PREFIX_BYTES} (${settings.maxLineBytes + PREFIX_BYTES}), got ${settings.queueLimitBytes}`,
    );
  }
}
