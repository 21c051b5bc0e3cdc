/**
 * TLS on top of the stream: `tls://host:port` endpoints. The server wraps each accepted TCP
 * socket in TLS (node:tls) before it becomes a Connection, the client does the handshake
 * before `connect()` resolves; framing, backpressure and limits then work on the decrypted
 * bytes exactly as over plain TCP.
 */

import type { Server, Socket } from "node:net";
import tls from "node:tls";
import {
  descriptorOf,
  type Endpoint,
  explain,
  formatAddress,
  type SocketError,
  type TraceListener,
} from "@socket-lab/core";
import { checkBoolean, checkString, invalidArgType } from "@socket-lab/core/internal";

/** Node's own handshake timeout, in ms: used when the server has no frame timeout. */
const NODE_HANDSHAKE_TIMEOUT_MS = 120_000;

/**
 * The server's side of TLS: its certificate and private key, PEM.
 * @example Fragment: reads key.pem and cert.pem (selfSignedCertificate() makes a pair)
 * await listen("tls://127.0.0.1:8443", { tls: { key: readFileSync("key.pem"), cert: readFileSync("cert.pem") } });
 */
export interface TlsServerOptions {
  /** The private key, PEM. */
  key: string | Buffer;
  /** The certificate (or chain, leaf first), PEM. */
  cert: string | Buffer;
  /**
   * Time a client may take to finish the TLS handshake after its TCP connection is accepted,
   * in ms; past it the socket is destroyed (and reported as an 'error' of the server).
   * @default the server's `frameTimeoutMs`, or 120,000 (Node's default) when that is 0
   */
  handshakeTimeoutMs?: number;
}

/**
 * The client's side of TLS: whom to trust and which name to check.
 * @example Fragment: reads cert.pem, and needs a server on port 8443
 * await connect("tls://127.0.0.1:8443", { tls: { ca: readFileSync("cert.pem"), servername: "localhost" } });
 */
export interface TlsConnectOptions {
  /**
   * Certificates to trust (PEM), instead of the system's CAs: a self-signed server's own
   * certificate, or the CA that signed it.
   * @default undefined (Node's bundled CA list)
   */
  ca?: string | Buffer | (string | Buffer)[];
  /**
   * The host name the server's certificate must name; also sent as SNI.
   * @default the endpoint's host when it is a name; for an IP address the address itself is checked
   */
  servername?: string;
  /**
   * Accept any certificate, unchecked: anyone on the path can read and change the traffic.
   * For tests against a throwaway certificate only.
   * @default false
   */
  insecure?: boolean;
}

/** What a finished handshake agreed on. */
export interface TlsInfo {
  /** `TLSv1.3`, `TLSv1.2`. */
  readonly protocol: string;
  /** The cipher suite, in its standard (IANA) name: `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
}

/** The protocol and cipher of a TLS socket after its handshake; `undefined` for plain TCP. */
export function tlsInfoOf(socket: Socket): TlsInfo | undefined {
  if (!(socket instanceof tls.TLSSocket)) return undefined;
  const cipher = socket.getCipher();
  return {
    protocol: socket.getProtocol() ?? "unknown",
    cipher: cipher?.standardName ?? cipher?.name ?? "unknown",
  };
}

/** What a TLS server tells the stream server it serves. */
export interface TlsServerHandlers {
  /** A client finished its handshake: its socket is ready for a connection. */
  onSecure(socket: Socket): void;
  /** A client's handshake failed (a plain-TCP client, a timeout, …); its socket is gone. */
  onFailure(error: SocketError): void;
}

/**
 * A listening socket that does the TLS handshake with each client it accepts. `accept()` is
 * traced when the TCP connection comes, with the listening and the new descriptor;
 * `close()` when its handshake fails. Closing it also destroys the handshakes still under way,
 * so they do not hold the close up.
 */
export function createTlsServer(
  options: TlsServerOptions,
  frameTimeoutMs: number,
  trace: TraceListener | undefined,
  handlers: TlsServerHandlers,
): Server {
  const { key, cert, handshakeTimeoutMs } = options;
  /** Accepted TCP sockets whose handshake has not finished. */
  const handshaking = new Set<Socket>();
  /** The peer and descriptor of each accepted TCP socket, read while it is open. */
  const accepted = new WeakMap<Socket, { remote: Endpoint; fd: number | undefined }>();
  const onSecure = (socket: tls.TLSSocket): void => {
    parentOf(socket);
    // Half-open only once secure: before, a client that gives up (it did not trust our
    // certificate) must end the handshake at once, not after handshakeTimeoutMs.
    socket.allowHalfOpen = true;
    handlers.onSecure(socket);
  };
  const server = new TlsListener(
    {
      key,
      cert,
      allowHalfOpen: false,
      noDelay: true,
      handshakeTimeout:
        handshakeTimeoutMs ?? (frameTimeoutMs > 0 ? frameTimeoutMs : NODE_HANDSHAKE_TIMEOUT_MS),
    },
    onSecure,
    handshaking,
  );
  /** The accepted TCP socket under a TLS socket, which no longer counts as handshaking. */
  const parentOf = (socket: tls.TLSSocket): Socket | undefined => {
    const parent = (socket as unknown as { _parent?: Socket })._parent ?? undefined;
    if (parent !== undefined) handshaking.delete(parent);
    return parent;
  };
  server.on("connection", (socket: Socket) => {
    const remote: Endpoint = {
      transport: "tls",
      host: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
    const fd = descriptorOf(socket);
    handshaking.add(socket);
    accepted.set(socket, { remote, fd });
    socket.once("close", () => handshaking.delete(socket));
    trace?.({ type: "accept", remote, fd: descriptorOf(server), newFd: fd });
  });
  server.on("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
    const parent = parentOf(socket);
    const { remote, fd } = (parent && accepted.get(parent)) ?? {
      remote: {
        transport: "tls",
        host: socket.remoteAddress ?? "",
        port: socket.remotePort ?? 0,
      } satisfies Endpoint,
      fd: undefined,
    };
    trace?.({ type: "close", remote, fd });
    // Handshakes cut short by close() are no failure of the client's.
    if (!server.closing) handlers.onFailure(handshakeFailure(error, remote));
  });
  return server;
}

/** A failed server-side handshake, explained; a client that hangs up gets its likely reason. */
function handshakeFailure(error: Error, remote: Endpoint): SocketError {
  const endpoint = formatAddress(remote);
  if ((error as NodeJS.ErrnoException).code !== "ECONNRESET") return explain(error, { endpoint });
  return explain(error, {
    endpoint,
    hint: "The client hung up during the TLS handshake, most often because it does not trust this server's certificate: give the client that certificate (or its CA) to trust.",
  });
}

/** A tls.Server whose `close()` also ends the handshakes under way. */
class TlsListener extends tls.Server {
  readonly #handshaking: Set<Socket>;
  closing = false;

  constructor(
    options: tls.TlsOptions,
    onSecure: (socket: tls.TLSSocket) => void,
    handshaking: Set<Socket>,
  ) {
    super(options, onSecure);
    this.#handshaking = handshaking;
  }

  override close(callback?: (err?: Error) => void): this {
    this.closing = true;
    super.close(callback);
    for (const socket of this.#handshaking) socket.destroy();
    return this;
  }
}

/** Traces the handshake a TLS socket has just finished on descriptor `fd`. */
export function traceHandshake(
  socket: Socket,
  remote: Endpoint,
  fd: number | undefined,
  trace: TraceListener | undefined,
): void {
  const info = tlsInfoOf(socket);
  if (trace !== undefined && info !== undefined) trace({ type: "handshake", remote, ...info, fd });
}

/** Throws unless `value` is a usable {@link TlsServerOptions}. */
export function checkTlsServerOptions(value: unknown): asserts value is TlsServerOptions {
  const options = value as Partial<TlsServerOptions> | null;
  if (typeof options !== "object" || options === null) {
    throw invalidArgType("tls", "an object { key, cert }", value);
  }
  for (const name of ["key", "cert"] as const) {
    const pem = options[name];
    if (typeof pem !== "string" && !Buffer.isBuffer(pem)) {
      throw invalidArgType(`tls.${name}`, "a PEM string or an instance of Buffer", pem);
    }
  }
}

/** Throws unless `value` is a usable {@link TlsConnectOptions} (or absent). */
export function checkTlsConnectOptions(value: unknown): asserts value is TlsConnectOptions {
  if (value === undefined) return;
  if (typeof value !== "object" || value === null) {
    throw invalidArgType("tls", "an object { ca, servername, insecure }", value);
  }
  const { servername, insecure } = value as TlsConnectOptions;
  if (servername !== undefined) checkString("tls.servername", servername);
  if (insecure !== undefined) checkBoolean("tls.insecure", insecure);
}

/** The `tls.connect()` options for one attempt to `host` (an address) of `target`. */
export function tlsConnectOptions(
  options: TlsConnectOptions | undefined,
  targetHost: string,
): tls.ConnectionOptions {
  const { ca, servername, insecure = false } = options ?? {};
  // SNI takes a name, never an address (RFC 6066); the certificate check uses the name given,
  // or the address when there is none.
  const name = servername ?? (isAddress(targetHost) ? undefined : targetHost);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(name === undefined ? {} : { servername: name }),
    rejectUnauthorized: !insecure,
  };
}

function isAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
