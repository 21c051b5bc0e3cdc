/**
 * The chat room: who is in it, what each line a client sends does, and the bounded queue of
 * lines waiting for each member. server.ts accepts the connections and hands each one's lines
 * here; the line protocol is protocol.ts, a member's queue outbox.ts.
 */

import type { Endpoint } from "@socket-lab/core";
import type { Connection } from "@socket-lab/tcp";
import { Outbox } from "./outbox.js";
import { type LeaveReason, line, parseClientLine } from "./protocol.js";
import {
  type ChatServerStats,
  type ChatSettings,
  CLOSE_TIMEOUT_MS,
  PREFIX_BYTES,
  QUEUE_LIMIT_LINES,
} from "./server-options.js";

/** One client in the room. */
export interface Member {
  nick: string;
  readonly connection: Connection<string>;
  /** Lines waiting to be sent to it, bounded. */
  readonly outbox: Outbox;
  idleTimer: NodeJS.Timeout | undefined;
}

/** The room, as server.ts uses it. */
export interface Room {
  readonly stats: ChatServerStats;
  /** True when `maxClients` are in the room: one more is refused. */
  readonly full: boolean;
  /** Counts a client the transport turned away at once (over the refusal headroom). */
  rejected(remote: Endpoint): void;
  /** Tells a client over `maxClients` the room is full, then closes its connection. */
  refuse(connection: Connection<string>): Promise<void>;
  /** Takes a client into the room, welcomes it, and tells the others. */
  join(connection: Connection<string>): Member;
  /**
   * Handles one line from a member, once every queue has room for what it may bring: while it
   * does not, the sender is not read, so TCP's flow control throttles it.
   */
  receive(member: Member, text: string): Promise<void>;
  /** Takes a member out of the room, tells the others, closes its connection. Idempotent. */
  leave(member: Member, reason: LeaveReason, lastLine?: string): void;
  /** The nicknames in the room, sorted. */
  users(): string[];
  /** Tells every member `* server shutting down` and lets them go; false if already done. */
  shutDown(): boolean;
}

/** Opens an empty room with these settings. */
export function createRoom(settings: ChatSettings): Room {
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

  async function refuse(connection: Connection<string>): Promise<void> {
    stats.refused += 1;
    onEvent?.({ type: "refuse", remote: connection.remote });
    // send the reason, then close: the client reads the line before it sees the end of stream.
    void connection.send(line.full(maxClients));
    await connection.close({ timeoutMs: CLOSE_TIMEOUT_MS });
  }

  async function receive(member: Member, text: string): Promise<void> {
    // Throttle: while its line might not fit in every queue, this client is not read. Its
    // lines pile up in the kernel, TCP's window closes, and the client's send() waits.
    if (!everyoneHasRoom()) await waitForRoom();
    if (members.has(member)) handleLine(member, text);
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

  return {
    stats,
    get full() {
      return members.size >= maxClients;
    },
    rejected(remote) {
      stats.refused += 1;
      onEvent?.({ type: "refuse", remote });
    },
    refuse,
    join,
    receive,
    leave,
    users: () => [...byNick.values()].map((m) => m.nick).sort(),
    shutDown() {
      if (shuttingDown) return false;
      shuttingDown = true;
      for (const member of [...members]) leave(member, "closed", line.shuttingDown());
      return true;
    },
  };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
