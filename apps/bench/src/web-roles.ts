/**
 * The web workload's two sides: a server (web-hello on @socket-lab/tcp, or node:http / node:https
 * serving the same page) that reports its memory, and a load generator (autocannon) making
 * keep-alive GETs of the page.
 */

import { once } from "node:events";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { selfSignedCertificate } from "@socket-lab/tcp";
import { page, startServer } from "@socket-lab/web-hello";
import autocannon from "autocannon";
import { LOOPBACK, type Role } from "./role.js";

/** Which server a web role runs. */
export type WebImpl = "web-hello" | "node:http";

/** What `web-server` answers to `listen`. */
export interface WebListening {
  readonly port: number;
}

/** What one load run did. */
export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly failures: number;
  /** Response bytes received, head and body, as autocannon counts them. */
  readonly bytes: number;
}

/**
 * autocannon's sample interval, in ms. It ends a run only at a sample tick, so its default
 * (1,000 ms) would round every run of `amount` requests up to whole seconds.
 */
const SAMPLE_INTERVAL_MS = 10;

/** `web-server`: one page over HTTP, or HTTPS with a certificate made at start. */
export async function webServer(options: { impl: WebImpl; tls: boolean }): Promise<Role> {
  const { impl, tls } = options;
  const certificate = tls ? await selfSignedCertificate() : undefined;
  let port: number;
  if (impl === "web-hello") {
    const server = await startServer({ host: LOOPBACK, port: 0, httpsPort: 0, certificate });
    port = server.ports[tls ? 1 : 0] as number;
  } else {
    // The same page, made by the same function, with what node:http tells of the connection.
    const served = new WeakMap<Socket, number>();
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      const socket = request.socket;
      const requests = (served.get(socket) ?? 0) + 1;
      served.set(socket, requests);
      const body = page(
        {
          fd: (socket as unknown as { _handle?: { fd?: number } })._handle?.fd,
          client: `${socket.remoteAddress}:${socket.remotePort}`,
          server: `${socket.localAddress}:${socket.localPort}`,
          requests,
          tls: tlsOf(socket),
        },
        {
          kind: "request",
          method: request.method ?? "GET",
          target: request.url ?? "/",
          version: request.httpVersion === "1.0" ? "HTTP/1.0" : "HTTP/1.1",
          headers: Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
          keepAlive: true,
          body: Buffer.alloc(0),
          headBytes: 0,
        },
      );
      response.writeHead(200, {
        Server: "node:http",
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": Buffer.byteLength(body),
      });
      response.end(body);
    };
    const server =
      certificate === undefined
        ? createHttpServer(handler)
        : createHttpsServer(certificate, handler);
    server.listen(0, LOOPBACK);
    await once(server, "listening");
    port = (server.address() as { port: number }).port;
  }
  return {
    listen: (): WebListening => ({ port }),
    /** RSS after a full garbage collection, in bytes. */
    rss: (): number => {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc === undefined) throw new Error("start the server with --expose-gc");
      gc();
      gc();
      return process.memoryUsage().rss;
    },
    /** CPU time this process has used, user and system, in µs. */
    cpu: (): number => {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
  };
}

/** `TLSv1.3, TLS_AES_256_GCM_SHA384` as web-hello's page tells it; `undefined` over TCP. */
function tlsOf(socket: Socket): string | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  const cipher = socket.getCipher();
  return `${socket.getProtocol()}, ${cipher.standardName ?? cipher.name}`;
}

/** `http-load`: autocannon, keep-alive GETs of one URL from `connections` connections. */
export function httpLoad(): Role {
  return {
    run: async (args: {
      url: string;
      connections: number;
      amount: number;
    }): Promise<LoadResult> => {
      const result = await autocannon({
        url: args.url,
        connections: args.connections,
        pipelining: 1,
        amount: args.amount,
        timeout: 10,
        sampleInt: SAMPLE_INTERVAL_MS,
      });
      return {
        requests: result.requests.total,
        seconds: (result.finish.getTime() - result.start.getTime()) / 1000,
        failures: result.errors + result.timeouts + result.non2xx,
        bytes: result.throughput.total,
      };
    },
  };
}
