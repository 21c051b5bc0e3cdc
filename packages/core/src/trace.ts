/**
 * The socket lifecycle as typed events named after the system calls, and formatters that print
 * them in strace's words, with the file descriptors: `listen(3, 5)`, `accept(3) = 4 (…)`,
 * `recv(4) = 0 (end of stream)` — as one line each, or as lines of a mermaid sequence diagram.
 *
 * Node does not make every call under the name the tutorial uses: libuv reads and writes a
 * stream socket with read()/write()/writev() (traced here as recv/send), accepts with accept4(),
 * and opens every socket with protocol 0, which the kernel takes as the default protocol of the
 * type (TCP for SOCK_STREAM, UDP for SOCK_DGRAM; the trace names it). A descriptor Node does not
 * expose (on Windows, or before the kernel has made the socket) prints as `?`, never a guess.
 */

import { formatSocketCall, type SocketAttributes } from "./attributes.js";
import { type Endpoint, formatAddress } from "./endpoint.js";

/**
 * One step in a socket's life. `fd` is the descriptor the call works on (for `socket`, the one
 * it returned); absent when Node does not expose it. `to`/`from` appear on datagrams, which
 * have no connection. A `recv` of 0 bytes without `from` is the end of a stream: the peer shut
 * down its sending side.
 */
export type TraceEvent =
  | { readonly type: "socket"; readonly attributes: SocketAttributes; readonly fd?: number }
  | { readonly type: "bind"; readonly local: Endpoint; readonly fd?: number }
  | { readonly type: "listen"; readonly backlog: number; readonly fd?: number }
  | {
      readonly type: "accept";
      readonly remote: Endpoint;
      /** The listening socket. */
      readonly fd?: number;
      /** The new socket accept() returned, for this client alone. */
      readonly newFd?: number;
    }
  | { readonly type: "connect"; readonly remote: Endpoint; readonly fd?: number }
  | {
      /** A TLS handshake finished on a connection: what it agreed on (`tls://` endpoints). */
      readonly type: "handshake";
      readonly remote: Endpoint;
      /** `TLSv1.3`, `TLSv1.2`. */
      readonly protocol: string;
      /** The cipher suite's standard name: `TLS_AES_256_GCM_SHA384`. */
      readonly cipher: string;
      readonly fd?: number;
    }
  | { readonly type: "send"; readonly bytes: number; readonly to?: Endpoint; readonly fd?: number }
  | {
      readonly type: "recv";
      readonly bytes: number;
      readonly from?: Endpoint;
      readonly fd?: number;
    }
  | { readonly type: "shutdown"; readonly how: "SHUT_WR"; readonly fd?: number }
  | { readonly type: "close"; readonly remote?: Endpoint; readonly fd?: number };

/** The name of a trace event: the system call it stands for. */
export type TraceEventType = TraceEvent["type"];

/** Receives trace events; transports call it synchronously, so it must not throw or block. */
export type TraceListener = (event: TraceEvent) => void;

/**
 * The file descriptor of a node:net socket or server, or a node:dgram socket, once the kernel
 * has made it; `undefined` where Node does not expose it (Windows, or before bind/connect).
 * It reads Node's internal handle: there is no public API for it.
 * @example
 * import { once } from "node:events";
 * import { createServer, Socket } from "node:net";
 * const server = createServer().listen(0, "127.0.0.1");
 * await once(server, "listening");
 * typeof descriptorOf(server) //=> "number"
 * descriptorOf(new Socket()) //=> undefined
 * server.close();
 */
export function descriptorOf(socket: object): number | undefined {
  type Handle =
    | { fd?: unknown; _parent?: Handle; _parentWrap?: { _handle?: Handle } }
    | null
    | undefined;
  // node:dgram keeps its handle under a symbol described as 'state symbol' (its `_handle` is a
  // deprecated getter that would print DEP0112); node:net has it as `_handle`.
  const state = Object.getOwnPropertySymbols(socket).find(
    (symbol) => symbol.description === "state symbol",
  );
  const handle: Handle =
    state === undefined
      ? (socket as { _handle?: Handle })._handle
      : (socket as Record<symbol, { handle?: Handle } | undefined>)[state]?.handle;
  // A TLS socket's handle wraps the TCP one: the descriptor is one level down.
  for (const candidate of [handle, handle?._parent, handle?._parentWrap?._handle]) {
    const fd = candidate?.fd;
    if (typeof fd === "number" && fd >= 0) return fd;
  }
  return undefined;
}

const fdText = (fd: number | undefined) => (fd === undefined ? "?" : String(fd));

/**
 * Prints one event in strace's words; `?` stands for a descriptor Node does not expose.
 * @example
 * formatTraceEvent({ type: "listen", backlog: 5, fd: 3 })             //=> "listen(3, 5)"
 * formatTraceEvent({ type: "accept", fd: 3, newFd: 4, remote: { transport: "tcp", host: "127.0.0.1", port: 54012 } })
 * //=> "accept(3) = 4 (127.0.0.1:54012)"
 * formatTraceEvent({ type: "recv", bytes: 0, fd: 4 })                 //=> "recv(4) = 0 (end of stream)"
 * const remote = { transport: "tcp", host: "127.0.0.1", port: 54012 } as const;
 * formatTraceEvent({ type: "handshake", remote, protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" })
 * //=> "tls handshake 127.0.0.1:54012 -> TLSv1.3 TLS_AES_256_GCM_SHA384"
 */
export function formatTraceEvent(event: TraceEvent): string {
  const fd = fdText(event.fd);
  switch (event.type) {
    case "socket":
      return `${formatSocketCall(event.attributes)} = ${fd}`;
    case "bind":
      return `bind(${fd}, ${formatAddress(event.local)})`;
    case "listen":
      return `listen(${fd}, ${event.backlog})`;
    case "accept":
      return `accept(${fd}) = ${fdText(event.newFd)} (${formatAddress(event.remote)})`;
    case "connect":
      return `connect(${fd}, ${formatAddress(event.remote)})`;
    case "handshake":
      return `tls handshake ${formatAddress(event.remote)} -> ${event.protocol} ${event.cipher}`;
    case "send":
      return event.to
        ? `sendto(${fd}, ${bytes(event.bytes)}, ${formatAddress(event.to)})`
        : `send(${fd}, ${bytes(event.bytes)})`;
    case "recv":
      if (event.from) return `recvfrom(${fd}) = ${event.bytes} (${formatAddress(event.from)})`;
      return event.bytes === 0 ? `recv(${fd}) = 0 (end of stream)` : `recv(${fd}) = ${event.bytes}`;
    case "shutdown":
      return `shutdown(${fd}, ${event.how})`;
    case "close":
      return `close(${fd})`;
  }
}

const bytes = (n: number) => `${n} ${n === 1 ? "byte" : "bytes"}`;

/**
 * A listener that writes each event as one line, e.g. to stderr for an app's `--trace`.
 * @example
 * const trace = traceTo(console.log); // an app's --trace: (line) => process.stderr.write(`${line}\n`)
 * trace({ type: "listen", backlog: 5, fd: 3 });
 * //=> listen(3, 5)
 */
export function traceTo(write: (line: string) => void, prefix = ""): TraceListener {
  return (event) => write(`${prefix}${formatTraceEvent(event)}`);
}

/** Who is tracing, for {@link mermaidTraceTo}. */
export interface MermaidTraceOptions {
  /** Which side of the diagram this program is: clients on the left (`C`), servers on the right (`S`). */
  role: "client" | "server";
  /** The program's name, shown on its lifeline, e.g. `tcp-echo-server`. */
  name: string;
  /** The name on the peer's lifeline. @default "server" for a client, "clients" for a server */
  peer?: string;
}

/** Calls that put something on the wire for the peer: drawn as an arrow to it. */
const TO_PEER: ReadonlySet<TraceEventType> = new Set(["connect", "send", "shutdown"]);

/**
 * A listener that writes a mermaid sequence diagram of the run: the header (at once), then one
 * message per event. A call that sends the peer something (connect's SYN, data, shutdown's
 * FIN) is an arrow to the peer; every other call is an arrow to itself. The client is always
 * `C` and the server `S`, so the lines of a client's and a server's diagram can be merged into
 * one (the root README's diagrams are made that way).
 * @example
 * const trace = mermaidTraceTo(console.log, { role: "server", name: "tcp-echo-server" });
 * //=> sequenceDiagram
 * //=>     participant C as clients
 * //=>     participant S as tcp-echo-server
 * trace({ type: "listen", backlog: 5, fd: 3 });
 * //=>     S->>S: listen(3, 5)
 */
export function mermaidTraceTo(
  write: (line: string) => void,
  options: MermaidTraceOptions,
): TraceListener {
  const client = options.role === "client";
  const self = client ? "C" : "S";
  const peer = client ? "S" : "C";
  const peerName = options.peer ?? (client ? "server" : "clients");
  write("sequenceDiagram");
  write(`    participant C as ${client ? options.name : peerName}`);
  write(`    participant S as ${client ? peerName : options.name}`);
  return (event) => {
    const to = TO_PEER.has(event.type) ? peer : self;
    // '#' and ';' end a mermaid message; trace lines never hold them, but a path might.
    const text = formatTraceEvent(event).replace(/[#;]/g, "_");
    write(`    ${self}->>${to}: ${text}`);
  };
}
