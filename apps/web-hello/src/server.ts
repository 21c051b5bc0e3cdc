/**
 * web-hello server — the tutorial's opening: "a web server typically creates a socket on port
 * 80", and a browser talks to it. HTTP is lines over a stream socket: the browser sends a
 * request line, header lines and an empty line; the server answers with a status line, header
 * lines, an empty line and the page. Over HTTPS the same lines travel inside TLS.
 *
 * Run it in two terminals (or a terminal and a browser):
 *   pnpm web:server                         # terminal 1: http://127.0.0.1:8080
 *   curl -v http://127.0.0.1:8080/          # terminal 2, or open the URL in a browser
 *
 * Read this file first; http-framing.ts reads requests off the stream, http-response.ts and
 * page.ts write the answers, server-cli.ts turns flags into options (options.ts).
 */

import { formatAddress } from "@socket-lab/core";
import { type Connection, listen, type Server } from "@socket-lab/tcp";
import { type HttpMessage, http } from "./http-framing.js";
import { answer, refuse } from "./http-response.js";
import { requestEvent, type SiteOptions, settingsOf, urlOf, type WebServer } from "./options.js";
import { page, storyOf } from "./page.js";

/**
 * Starts the server: HTTP on `port`, and HTTPS on `httpsPort` when a certificate is given.
 * @throws {SocketError} `EADDRINUSE` when a port is taken, `EACCES` below 1024, …
 */
export async function startServer(options: SiteOptions = {}): Promise<WebServer> {
  const settings = settingsOf(options);
  const emit = settings.onEvent;
  const servers: Server<HttpMessage>[] = [];
  const serving = new Set<Promise<void>>();

  // socket + bind + listen, once per scheme: tcp:// for http, tls:// for https. The kernel
  // queues connections (backlog) until the accept loop below takes them.
  for (const { endpoint, tls } of settings.sites) {
    const server = await listen<HttpMessage>(endpoint, {
      framing: http(settings.limits), // a request = lines up to an empty line, then a body
      backlog: settings.backlog,
      maxConnections: settings.maxConnections,
      idleTimeoutMs: settings.keepAliveTimeoutMs, // a kept-alive connection may wait this long
      frameTimeoutMs: settings.requestTimeoutMs, // one request must arrive whole within this
      trace: settings.trace,
      ...(tls === undefined ? {} : { tls }),
    }).catch(async (error: unknown) => {
      await Promise.all(servers.map((s) => s.close()));
      throw error;
    });
    servers.push(server);
    // A failed TLS handshake or accept is reported, never fatal.
    server.on("error", (error) => emit({ type: "server-error", error }));
    emit({ type: "listening", url: urlOf(server.endpoint) });
    void acceptLoop(server);
  }

  // accept: each loop turn takes one connection off the queue, a new socket for one client.
  async function acceptLoop(server: Server<HttpMessage>): Promise<void> {
    for await (const connection of server) {
      const done = serve(connection);
      serving.add(done);
      void done.finally(() => serving.delete(done));
    }
  }

  // One client's connection: as many requests as it sends while it is kept alive.
  async function serve(connection: Connection<HttpMessage>): Promise<void> {
    const client = formatAddress(connection.remote);
    let requests = 0;
    emit({ type: "connect", client, fd: connection.fd });
    try {
      // recv: the framing reads the request line and headers, then Content-Length bytes.
      for await (const message of connection) {
        if (message.kind === "response") continue; // only servers send these
        requests += 1;
        const reply =
          message.kind === "error"
            ? refuse(message)
            : answer(message, () => page(storyOf(connection, requests), message));
        emit(requestEvent(client, requests, reply.status, message));
        // send: status line, header lines, an empty line, the body: one write.
        await connection.send(reply.response);
        if (!reply.keepAlive) break; // Connection: close, or a refused request
      }
    } catch (error) {
      // A reset, a request that never finished (requestTimeoutMs) or an idle keep-alive
      // connection (keepAliveTimeoutMs) ends this client only, never the server.
      emit({ type: "error", client, error: error as Error });
    } finally {
      // close: this client's socket; the listening sockets stay open.
      await connection.close();
      emit({ type: "disconnect", client, requests });
    }
  }

  return {
    urls: servers.map((server) => urlOf(server.endpoint)),
    ports: servers.map((server) =>
      server.endpoint.transport === "unix" ? 0 : server.endpoint.port,
    ),
    async close() {
      // close: the listening sockets first (no new clients), then every client's socket.
      await Promise.all(servers.map((server) => server.close()));
      await Promise.all(serving);
    },
  };
}
