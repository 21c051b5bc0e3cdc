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
 * The line protocol is described in protocol.ts, what the room does with each line in room.ts,
 * and the options in server-options.ts.
 */

import { explain } from "@socket-lab/core";
import { type Connection, lines, listen } from "@socket-lab/tcp";
import type { LeaveReason } from "./protocol.js";
import { createRoom } from "./room.js";
import {
  type ChatServer,
  type ChatServerOptions,
  CLOSE_TIMEOUT_MS,
  chatEndpoint,
  chatSettings,
  REFUSAL_HEADROOM,
} from "./server-options.js";

/**
 * Starts a chat server and resolves once it is listening.
 *
 * @throws {TypeError | RangeError} for a bad option, naming it and its value.
 * @throws {SocketError} when the port cannot be bound (`EADDRINUSE`, `EACCES`, …).
 * @example
 * import { formatEndpoint } from "@socket-lab/core";
 * const chat = await startChatServer({ port: 0 });
 * console.log(`listening on ${formatEndpoint(chat.endpoint)}`);
 * //=> listening on tcp://127.0.0.1:40321
 * await chat.close();
 */
export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const settings = chatSettings(options);
  const room = createRoom(settings);

  // socket + bind + listen. The transport's own connection limit sits a little above the room's,
  // so that a client over the room's limit is still accepted and told why it is turned away.
  const server = await listen<string>(chatEndpoint(settings), {
    framing: lines({ maxLineBytes: Math.max(64 * 1024, 4 * settings.maxLineBytes) }),
    maxConnections: settings.maxClients + REFUSAL_HEADROOM,
    // Idleness is the room's business (a client that only listens counts as idle here), and
    // the room says why before it closes.
    idleTimeoutMs: 0,
    // send() waits until the kernel has taken everything: how each member's Outbox sees progress.
    highWaterMark: 0,
    trace: settings.trace,
  });
  server.on("reject", ({ remote }) => room.rejected(remote));

  const accepting = (async () => {
    // accept: each turn of this loop is one accept(), which returns a NEW connected socket for
    // that one client, while the listening socket goes on accepting the next.
    for await (const connection of server) void serve(connection);
  })();

  // One client, on the socket accept() gave us for it alone.
  async function serve(connection: Connection<string>): Promise<void> {
    if (room.full) return room.refuse(connection);
    const member = room.join(connection);
    let reason: LeaveReason = "closed";
    try {
      // recv, one line at a time. The loop ends when the client half-closes (EOF), or when the
      // server closes the connection after the member has left.
      for await (const text of connection) await room.receive(member, text);
    } catch (err) {
      reason = explain(err).code === "ECONNRESET" ? "reset" : "error";
    }
    // close: the member leaves; its connection closes once its last lines are sent.
    room.leave(member, reason);
  }

  async function close(): Promise<void> {
    if (!room.shutDown()) return;
    // close(fd) on the listening socket, then on any connection still open; it resolves once
    // every client's socket is closed.
    await server.close({ timeoutMs: CLOSE_TIMEOUT_MS });
    await accepting;
  }

  return {
    endpoint: server.endpoint,
    stats: room.stats,
    users: room.users,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export {
  CHAT_IDLE_TIMEOUT_MS,
  CHAT_MAX_CLIENTS,
  CHAT_MAX_LINE_BYTES,
  CHAT_QUEUE_LIMIT_BYTES,
  CHAT_STALL_TIMEOUT_MS,
  type ChatEvent,
  type ChatServer,
  type ChatServerOptions,
  type ChatServerStats,
  PREFIX_BYTES,
  QUEUE_LIMIT_LINES,
} from "./server-options.js";
