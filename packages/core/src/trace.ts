/**
 * The socket lifecycle as typed events named after the system calls, and a formatter that
 * prints them the way the tutorial does: `bind(127.0.0.1:7000)`, `listen(backlog=5)`, …
 */

import { formatSocketCall, type SocketAttributes } from "./attributes.js";
import { type Endpoint, formatAddress } from "./endpoint.js";

/** One step in a socket's life. `to`/`from` appear on datagrams, which have no connection. */
export type TraceEvent =
  | { readonly type: "socket"; readonly attributes: SocketAttributes }
  | { readonly type: "bind"; readonly local: Endpoint }
  | { readonly type: "listen"; readonly backlog: number }
  | { readonly type: "accept"; readonly remote: Endpoint }
  | { readonly type: "connect"; readonly remote: Endpoint }
  | {
      /** A TLS handshake finished on a connection: what it agreed on (`tls://` endpoints). */
      readonly type: "handshake";
      readonly remote: Endpoint;
      /** `TLSv1.3`, `TLSv1.2`. */
      readonly protocol: string;
      /** The cipher suite's standard name: `TLS_AES_256_GCM_SHA384`. */
      readonly cipher: string;
    }
  | { readonly type: "send"; readonly bytes: number; readonly to?: Endpoint }
  | { readonly type: "recv"; readonly bytes: number; readonly from?: Endpoint }
  | { readonly type: "shutdown"; readonly how: "SHUT_WR" }
  | { readonly type: "close"; readonly remote?: Endpoint };

/** The name of a trace event: the system call it stands for. */
export type TraceEventType = TraceEvent["type"];

/** Receives trace events; transports call it synchronously, so it must not throw or block. */
export type TraceListener = (event: TraceEvent) => void;

const bytes = (n: number) => `${n} ${n === 1 ? "byte" : "bytes"}`;

/**
 * Prints one event in the tutorial's words.
 * @example
 * formatTraceEvent({ type: "listen", backlog: 5 })                  //=> "listen(backlog=5)"
 * formatTraceEvent({ type: "accept", remote: { transport: "tcp", host: "127.0.0.1", port: 54012 } })
 * //=> "accept() -> 127.0.0.1:54012"
 * formatTraceEvent({ type: "recv", bytes: 17 })                     //=> "recv 17 bytes"
 * formatTraceEvent({ type: "handshake", remote, protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" })
 * //=> "tls handshake 127.0.0.1:54012 -> TLSv1.3 TLS_AES_256_GCM_SHA384"
 */
export function formatTraceEvent(event: TraceEvent): string {
  switch (event.type) {
    case "socket":
      return formatSocketCall(event.attributes);
    case "bind":
      return `bind(${formatAddress(event.local)})`;
    case "listen":
      return `listen(backlog=${event.backlog})`;
    case "accept":
      return `accept() -> ${formatAddress(event.remote)}`;
    case "connect":
      return `connect(${formatAddress(event.remote)})`;
    case "handshake":
      return `tls handshake ${formatAddress(event.remote)} -> ${event.protocol} ${event.cipher}`;
    case "send":
      return event.to
        ? `sendto(${formatAddress(event.to)}) ${bytes(event.bytes)}`
        : `send ${bytes(event.bytes)}`;
    case "recv":
      return event.from
        ? `recvfrom(${formatAddress(event.from)}) ${bytes(event.bytes)}`
        : `recv ${bytes(event.bytes)}`;
    case "shutdown":
      return `shutdown(${event.how})`;
    case "close":
      return event.remote ? `close() ${formatAddress(event.remote)}` : "close()";
  }
}

/**
 * A listener that writes each event as one line, e.g. to stderr for an app's `--trace`.
 * @example
 * const trace = traceTo((line) => process.stderr.write(`${line}\n`));
 */
export function traceTo(write: (line: string) => void, prefix = ""): TraceListener {
  return (event) => write(`${prefix}${formatTraceEvent(event)}`);
}
