/**
 * tcp-echo server — the tutorial's stream server.
 *
 * What it shows: a stream server calls socket → bind → listen(backlog) → accept, and `accept`
 * hands back a NEW socket for each client, so one server talks to many clients at once. A
 * stream has no message boundaries: the framing (a `\n` after each line, or a length prefix)
 * is what turns the bytes back into messages.
 *
 * Run it in two terminals:
 *   pnpm tcp:server      # terminal 1: listening on tcp://127.0.0.1:7000
 *   pnpm tcp:client      # terminal 2: type a line, see it echoed
 *
 * Read this file first, then client.ts; server-options.ts holds the options and events, and
 * server-cli.ts only turns flags into them.
 */

import { explain } from "@socket-lab/core";
import { type Connection, listen } from "@socket-lab/tcp";
import { type EchoServer, type EchoServerOptions, planServer } from "./server-options.js";

/**
 * Starts the echo server: binds, listens, and answers every message of every client — with the
 * message itself, or with `reply`.
 *
 * @throws {SocketError} `EADDRINUSE` when the port (or a live unix socket) is taken, `EACCES`
 *   below 1024, `ENOTSOCK` when the unix path is a file that is not a socket, …
 * @example
 * const server = await startServer({ port: 0, reply: "Hello from server" });
 * server.endpoint //=> { transport: "tcp", host: "127.0.0.1", port: 41234 }
 * await server.close() //=> { connections: 0, rejected: 0, messages: 0 }
 */
export async function startServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const { endpoint, listenOptions, answer, closeTimeoutMs, emit, limitOf } = planServer(options);

  // socket + bind + listen: the kernel now queues connections (backlog 5 by default) until
  // accept() takes them.
  const server = await listen<string | Buffer>(endpoint, listenOptions);
  server.on("reject", ({ remote, reason }) => {
    emit({ type: "reject", remote, reason, maxConnections: limitOf(reason) });
  });
  // Server-level trouble (out of file descriptors while accepting) is reported, never fatal:
  // the clients already connected keep being served.
  server.on("error", (error) => emit({ type: "server-error", error }));

  let messages = 0;
  const accepting = (async () => {
    // accept: each turn of this loop is one accept(), which returns a NEW connected socket for
    // that one client. The listening socket goes on accepting while clients are served.
    for await (const connection of server) void serve(connection);
  })();

  // One client, on the socket accept() gave us for it alone. Never rejects.
  async function serve(connection: Connection<string | Buffer>): Promise<void> {
    const remote = connection.remote;
    let received = 0;
    emit({ type: "connect", remote });
    try {
      // recv: bytes arrive in whatever pieces TCP chose; the framing hands us whole messages.
      for await (const message of connection) {
        received += 1;
        messages += 1;
        const response = answer ?? message;
        emit({ type: "message", from: remote, text: String(message), reply: String(response) });
        // send: the answer goes back on the same stream, in order.
        await connection.send(response);
      }
    } catch (error) {
      // A reset, an oversize line or an idle timeout ends this client only, never the server.
      emit({ type: "error", remote, error: explain(error) });
    } finally {
      // close: our end of this client's socket; the listening socket stays open.
      await connection.close();
      emit({ type: "disconnect", remote, messages: received });
    }
  }

  return {
    endpoint: server.endpoint,
    async close() {
      // close: the listening socket first (no new clients), then every client's socket; it
      // resolves once each serve() has closed its client and logged it.
      await server.close({ timeoutMs: closeTimeoutMs });
      await accepting;
      return { connections: server.stats.accepted, rejected: server.stats.rejected, messages };
    },
  };
}

export {
  ECHO_CLOSE_TIMEOUT_MS,
  type EchoFraming,
  type EchoServer,
  type EchoServerEvent,
  type EchoServerOptions,
  type EchoServerSummary,
  TCP_ECHO_PORT,
} from "./server-options.js";
