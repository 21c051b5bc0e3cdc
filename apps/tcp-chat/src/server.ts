/**
 * tcp-chat server: many clients attached to one stream socket server.
 *
 * What it shows: `accept` hands back one new socket per client while the listening socket goes
 * on accepting, so one process talks to many peers at once. Every line a client sends is copied
 * to every other client. Copying means buffering, and a client that stops reading must never make
 * the server buffer without bound or hold up the room: the bytes waiting for each client are
 * capped, and a client over its cap is dropped with a notice to the others.
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
import { DEFAULT_CHAT_PORT, type LeaveReason, line, parseClientLine } from "./protocol.js";

/** Most clients in the room at once. */
export const DEFAULT_MAX_CLIENTS = 100;
/** Longest message a client may send, in bytes of UTF-8. */
export const DEFAULT_MAX_LINE_BYTES = 1_024;
/** How long a client may send nothing before it is disconnected, in ms: 10 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 600_000;
/** Most bytes waiting to be sent to one client before it counts as too slow and is dropped. */
export const DEFAULT_QUEUE_LIMIT_BYTES = 64 * 1024;

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
   * Most bytes waiting to be sent to one client (its connection's `bufferedBytes`: sent by the
   * room, not yet taken by the kernel). A client that would go past this has stopped reading:
   * it is dropped and the room told `* NAME left (too slow)`.
   * @default 65536
   */
  queueLimitBytes?: number;
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
  /** Clients dropped because they stopped reading (their queue limit was reached). */
  readonly dropped: number;
  /** Messages over `maxLineBytes` that were answered with an error instead of passed on. */
  readonly linesTooLong: number;
  /** The most bytes ever waiting to be sent to one client, in bytes; never over `queueLimitBytes`. */
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
};

/** One client in the room. */
interface Member {
  nick: string;
  readonly connection: Connection<string>;
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
  const { maxClients, maxLineBytes, idleTimeoutMs, queueLimitBytes, onEvent } = settings;

  const members = new Set<Member>();
  const byNick = new Map<string, Member>(); // lower-cased nickname → member: names clash ignoring case
  let guests = 0;
  let shuttingDown = false;
  const stats = {
    clients: 0,
    joined: 0,
    refused: 0,
    dropped: 0,
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
    const member: Member = { nick: `guest${guests}`, connection, idleTimer: undefined };
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
        deliver(member, line.bye());
        leave(member, "quit");
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

  /** Takes a member out of the room, tells the others, and closes its connection. Idempotent. */
  function leave(member: Member, reason: LeaveReason): void {
    if (!members.delete(member)) return;
    byNick.delete(member.nick.toLowerCase());
    stats.clients = members.size;
    clearTimeout(member.idleTimer);
    if (reason === "slow") {
      // It is not reading, so there is nothing worth flushing: close(fd) at once, and the
      // bytes buffered for it are freed.
      member.connection.destroy();
    } else {
      // shutdown(SHUT_WR) once its last lines are sent, then close(fd); a client that does not
      // close its side within CLOSE_TIMEOUT_MS is cut off.
      void member.connection.close({ timeoutMs: CLOSE_TIMEOUT_MS });
    }
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
      deliver(member, line.error(`idle for ${formatSeconds(idleTimeoutMs)}; disconnecting`));
      leave(member, "idle");
    }, idleTimeoutMs);
  }

  /**
   * Sends a line to everyone in the room but `except`, and never waits for anyone: one slow
   * client must not hold up the others.
   */
  function broadcast(text: string, except?: Member): void {
    const bytes = Buffer.byteLength(text) + 1;
    const tooSlow: Member[] = [];
    for (const member of members) {
      if (member !== except && !send(member, text, bytes)) tooSlow.push(member);
    }
    // Dropping one tells the room, which is another broadcast: do it once this one is complete.
    for (const member of tooSlow) drop(member);
  }

  /** Sends a line to one member. */
  function deliver(member: Member, text: string): void {
    if (!send(member, text, Buffer.byteLength(text) + 1)) drop(member);
  }

  /**
   * send: hands `bytes` bytes to a member's connection, without waiting. The connection copies
   * the line into its buffer and writes it to the kernel; what the kernel cannot take yet stays
   * buffered, counted in `bufferedBytes`. A client that stops reading makes that count grow
   * (its socket's receive buffer, then our send buffer, fill up): past the queue limit this
   * returns false and nothing is buffered.
   */
  function send(member: Member, text: string, bytes: number): boolean {
    const queued = member.connection.bufferedBytes + bytes;
    if (queued > queueLimitBytes) return false;
    stats.peakQueuedBytes = Math.max(stats.peakQueuedBytes, queued);
    // Not awaited: send() resolves late only for a slow reader, and its failure (the client is
    // gone) ends that client's receive loop, which takes it out of the room.
    void member.connection.send(text);
    return true;
  }

  function drop(member: Member): void {
    if (!members.has(member)) return;
    stats.dropped += 1;
    leave(member, "slow");
  }

  async function close(): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const member of [...members]) {
      deliver(member, line.shuttingDown());
      leave(member, "closed");
    }
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
