/**
 * The one error class of socket-lab, the codes it carries, and `explain()`, which turns the
 * system errors Node reports (ECONNREFUSED, EADDRINUSE, …) into one plain sentence and a hint.
 */

/**
 * Codes that socket-lab raises itself. Match on `err.code`, never on message text.
 * System errors keep the code Node gave them (see {@link SystemErrorCode}).
 */
export const ErrorCode = {
  /** An endpoint string or object is malformed: bad scheme, host, port or unix path. */
  ERR_INVALID_ENDPOINT: "ERR_INVALID_ENDPOINT",
  /** A domain/type/protocol combination that makes no sense, such as SOCK_DGRAM with TCP. */
  ERR_INVALID_SOCKET_ATTRIBUTES: "ERR_INVALID_SOCKET_ATTRIBUTES",
  /** A valid combination that Node cannot open, such as AF_UNIX with SOCK_DGRAM. */
  ERR_UNSUPPORTED_SOCKET: "ERR_UNSUPPORTED_SOCKET",
  /** A stream frame or line is longer than the configured maximum. */
  ERR_FRAME_TOO_LARGE: "ERR_FRAME_TOO_LARGE",
  /** A stream ended in the middle of a frame or line. */
  ERR_FRAME_TRUNCATED: "ERR_FRAME_TRUNCATED",
  /** A line is not valid UTF-8 and the decoder was told to reject such lines. */
  ERR_INVALID_UTF8: "ERR_INVALID_UTF8",
  /** A datagram payload is larger than the protocol maximum or the configured policy. */
  ERR_DATAGRAM_TOO_LARGE: "ERR_DATAGRAM_TOO_LARGE",
  /** A datagram does not carry the expected socket-lab header. */
  ERR_INVALID_HEADER: "ERR_INVALID_HEADER",
  /** An operation did not finish in time: connect, request, or an idle connection. */
  ERR_TIMEOUT: "ERR_TIMEOUT",
  /** The operation was cancelled through an AbortSignal. */
  ERR_ABORTED: "ERR_ABORTED",
  /** A send or receive was attempted on a socket that is already closed. */
  ERR_SOCKET_CLOSED: "ERR_SOCKET_CLOSED",
  /** A server refused a connection because it already holds `maxConnections`. */
  ERR_TOO_MANY_CONNECTIONS: "ERR_TOO_MANY_CONNECTIONS",
  /**
   * A server dropped a connection because its budget for bytes held for peers (partial
   * messages, unsent replies) was full and this connection held the most.
   */
  ERR_BUFFER_BUDGET: "ERR_BUFFER_BUDGET",
  /** `explain()` was given an error with no code at all (or a value that is not an Error). */
  ERR_UNKNOWN: "ERR_UNKNOWN",
} as const;

/** A code socket-lab raises itself. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The system error codes that `explain()` knows how to word. */
export const SYSTEM_ERROR_CODES = [
  "ECONNREFUSED",
  "EADDRINUSE",
  "EADDRNOTAVAIL",
  "EACCES",
  "EPERM",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EMSGSIZE",
  "ENOENT",
  "ENOTSOCK",
  "EMFILE",
  "ENFILE",
  "ENOTFOUND",
  "EAI_AGAIN",
] as const;

/** A system error code that `explain()` words; any other code passes through as it is. */
export type SystemErrorCode = (typeof SYSTEM_ERROR_CODES)[number];

/**
 * The TLS error codes (Node's and OpenSSL's) that `explain()` words: certificate problems a
 * client meets, and handshakes a server sees fail.
 */
export const TLS_ERROR_CODES = [
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_HTTP_REQUEST",
  "ERR_TLS_HANDSHAKE_TIMEOUT",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
] as const;

/** A TLS error code that `explain()` words. */
export type TlsErrorCode = (typeof TLS_ERROR_CODES)[number];

/** Every code a {@link SocketError} can carry. Unknown system codes are kept as plain strings. */
export type SocketErrorCode = ErrorCode | SystemErrorCode | TlsErrorCode | (string & {});

/** What a {@link SocketError} is built from. */
export interface SocketErrorOptions {
  /** The underlying error, usually Node's system error. */
  cause?: unknown;
  /** What the user can do about it, as one sentence. */
  hint?: string;
  /** The system call that failed (`connect`, `bind`, `send`, …), as Node reports it. */
  syscall?: string;
  /** The address involved: an IP address or a unix socket path. */
  address?: string;
  /** The port involved, when there is one. */
  port?: number;
}

/**
 * Marks a {@link SocketError} from any copy of this package: two copies of core installed side
 * by side (or its ES module and CommonJS builds loaded together) have two `SocketError` classes,
 * and `Symbol.for` gives both the same key.
 */
const BRAND = Symbol.for("@socket-lab/core.SocketError");

/**
 * The error every socket-lab API throws or rejects with. `code` is either one of
 * {@link ErrorCode} or the system code Node reported (`ECONNREFUSED`, …); `hint` says what to do.
 *
 * @example Fragment: connect is @socket-lab/tcp's, a package core does not depend on
 * import { connect } from "@socket-lab/tcp";
 * try { await connect("tcp://127.0.0.1:9") } catch (err) {
 *   if (err instanceof SocketError && err.code === "ECONNREFUSED") console.error(err.hint);
 * }
 */
export class SocketError extends Error {
  override name = "SocketError";
  readonly code: SocketErrorCode;
  readonly hint: string | undefined;
  readonly syscall: string | undefined;
  readonly address: string | undefined;
  readonly port: number | undefined;

  constructor(code: SocketErrorCode, message: string, options: SocketErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.syscall = options.syscall;
    this.address = options.address;
    this.port = options.port;
  }

  /** `instanceof SocketError` is true for a SocketError of any copy of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && BRAND in value;
  }
}
Object.defineProperty(SocketError.prototype, BRAND, { value: true });

/**
 * True when `err` is a {@link SocketError} (of any copy of this package), optionally with the
 * given code.
 */
export function isSocketError(err: unknown, code?: SocketErrorCode): err is SocketError {
  return err instanceof SocketError && (code === undefined || err.code === code);
}

/** What `explain()` may know about the failed operation that the error itself does not say. */
export interface ExplainContext {
  /**
   * The endpoint involved, printed in the message when the error carries no address
   * (ECONNRESET and EPIPE on an open connection do not). E.g. `"127.0.0.1:7000"`.
   */
  endpoint?: string;
  /** Replaces the default hint, e.g. an app's "Start one with: pnpm tcp:server". */
  hint?: string;
}

interface NodeSystemError extends Error {
  code?: unknown;
  /** Why a certificate does not match its host name (ERR_TLS_CERT_ALTNAME_INVALID). */
  reason?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/**
 * Words one system or TLS error; `where` is the endpoint, or undefined when nothing says which.
 */
type Wording = (
  where: string | undefined,
  error: NodeSystemError,
) => { message: string; hint: string };

/** `" by 127.0.0.1:7000"` (`" 127.0.0.1:7000"` without a preposition), or nothing when unknown. */
function at(where: string | undefined, preposition?: string): string {
  if (where === undefined) return "";
  return preposition === undefined ? ` ${where}` : ` ${preposition} ${where}`;
}

const SAFE_SIZES = "1,472 bytes (IPv4) or 1,232 bytes (IPv6)";

const WORDING: Record<SystemErrorCode, Wording> = {
  ECONNREFUSED: (where) => ({
    message: `connection refused${at(where, "by")} — no server is listening there`,
    hint: "Is the server running? Start it first, or check the host and port. Note that 'localhost' may mean ::1 while the server listens on 127.0.0.1.",
  }),
  EADDRINUSE: (where) => ({
    message: `address${at(where)} is already in use — another socket is bound there`,
    hint: "Stop the other program (or the earlier copy of this one), choose another port, or use port 0 to let the system pick a free one.",
  }),
  EADDRNOTAVAIL: (where) => ({
    message: `address${at(where)} is not available on this machine`,
    hint: "Bind to an address this machine owns, such as 127.0.0.1 or ::1.",
  }),
  EACCES: (where) => ({
    message: `permission denied${at(where, "for")}`,
    hint: "Ports below 1024 need privileges: use a port from 1024 up. For a unix socket, check the directory's permissions.",
  }),
  EPERM: (where) => ({
    message: `operation not permitted${at(where, "on")}`,
    hint: "The system refused the operation; check permissions and any firewall rules.",
  }),
  ECONNRESET: (where) => ({
    message: `connection${at(where, "to")} was reset by the peer`,
    hint: "The other side closed abruptly (it crashed, was killed or gave up); reconnect if the work must go on.",
  }),
  ECONNABORTED: (where) => ({
    message: `connection${at(where, "to")} was aborted`,
    hint: "The connection ended before it was accepted; the client may retry.",
  }),
  EPIPE: (where) => ({
    message: `connection${at(where, "to")} is closed for writing (broken pipe)`,
    hint: "The peer has closed the connection: stop sending, or reconnect.",
  }),
  ETIMEDOUT: (where) => ({
    message: `connection${at(where, "to")} timed out`,
    hint: "Check that the server is running and reachable, or allow a longer timeout.",
  }),
  EHOSTUNREACH: (where) => ({
    message: `host${at(where)} is unreachable`,
    hint: "Check the address; on this machine, 127.0.0.1 or ::1 always answer.",
  }),
  ENETUNREACH: (where) => ({
    message: `network${at(where, "for")} is unreachable`,
    hint: "Check the address and that this machine has a route to it; loopback is 127.0.0.1 or ::1.",
  }),
  EMSGSIZE: (where) => ({
    message: `datagram${at(where, "to")} is too large to send`,
    hint: `A UDP payload can be at most 65,507 bytes (IPv4) or 65,527 bytes (IPv6); ${SAFE_SIZES} avoids fragmentation.`,
  }),
  ENOENT: (where) => ({
    message: `no socket exists${at(where, "at")}`,
    hint: "Start the server first, or check the unix socket path.",
  }),
  ENOTSOCK: (where) => ({
    message: `${where ?? "the path"} is not a socket`,
    hint: "The path exists but is an ordinary file; choose another path or remove the file.",
  }),
  EMFILE: (where) => ({
    message: `too many open files${at(where, "for")} — this process has used all its file descriptors`,
    hint: "Close sockets that are no longer needed, lower maxConnections, or raise the limit with 'ulimit -n'.",
  }),
  ENFILE: (where) => ({
    message: `too many open files${at(where, "for")} — the whole system is out of file descriptors`,
    hint: "Close programs, or raise the system limit (fs.file-max on Linux).",
  }),
  ENOTFOUND: (where) => ({
    message: `host name${at(where)} could not be resolved`,
    hint: "Check the spelling, or use an IP address such as 127.0.0.1 or ::1.",
  }),
  EAI_AGAIN: (where) => ({
    message: `host name${at(where)} could not be resolved right now`,
    hint: "The name resolver did not answer; try again, or use an IP address such as 127.0.0.1.",
  }),
};

/**
 * How the errors that mean something else on a unix socket are worded there: a path is a file,
 * so "in use" may be a file a killed server left behind, and access is the file's permissions.
 */
const UNIX_WORDING: Partial<Record<SystemErrorCode, Wording>> = {
  EADDRINUSE: (where) => ({
    message: `address${at(where)} is already in use — a file exists at that path`,
    hint: "If no server runs there any more (a killed server leaves its socket file behind), remove the file; otherwise stop the server that owns it, or choose another path.",
  }),
  ECONNREFUSED: (where) => ({
    message: `connection refused by${at(where)} — the socket file exists but no server accepts on it`,
    hint: "A server that was killed leaves its socket file behind: start the server again (it can replace the stale file), or check the path.",
  }),
  EACCES: (where) => ({
    message: `permission denied for${at(where)}`,
    hint: "A unix socket is a file: check its permissions and its directory's (socket-lab servers make it owner-only, mode 0600; see unixSocketMode).",
  }),
  // A server's bind (Node reports it as listen) creates the file: what is missing is its directory.
  ENOENT: (where, error) =>
    error.syscall === "bind" || error.syscall === "listen"
      ? {
          message: `no directory exists for the socket file${at(where)}`,
          hint: "A unix socket is a file, and bind() creates it but not its directory: create the directory first, or choose a path in one that exists.",
        }
      : WORDING.ENOENT(where, error),
};

/** True when a Node error is about a unix socket path (Node gives such errors port -1). */
function isUnixPath(err: NodeSystemError): boolean {
  return typeof err.address === "string" && err.address.startsWith("/");
}

const TRUST_IT =
  "Give the client that certificate to trust (ca, or --ca FILE in the apps); --insecure skips the check, for a throwaway test only.";
const UNKNOWN_CA = (where: string | undefined) => ({
  message: `the certificate of${at(where)} is signed by a certificate authority this client does not know`,
  hint: "Give the client the CA certificate that signed it (ca), or have the server send its whole chain.",
});
const NOT_TLS = (where: string | undefined) => ({
  message: `the peer${at(where)} does not speak TLS — a plain TCP peer on a TLS connection`,
  hint: "Use tls:// (https://) on both sides, or tcp:// (http://) on both; a client needs --tls exactly when its server has it.",
});
const CLIENT_REFUSED = (where: string | undefined) => ({
  message: `the client${at(where)} refused this server's certificate during the TLS handshake`,
  hint: "Make the client trust it: give it the certificate (its fingerprint is printed at start) as its CA, or use a certificate it already trusts.",
});

const TLS_WORDING: Record<TlsErrorCode, Wording> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: (where) => ({
    message: `the certificate of${at(where)} is self-signed, and this client does not trust it`,
    hint: TRUST_IT,
  }),
  SELF_SIGNED_CERT_IN_CHAIN: (where) => ({
    message: `the certificate chain of${at(where)} ends in a self-signed root this client does not trust`,
    hint: "Give the client that root CA's certificate to trust (ca).",
  }),
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNKNOWN_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNKNOWN_CA,
  ERR_TLS_CERT_ALTNAME_INVALID: (where, error) => ({
    message: `the certificate of${at(where)} is not for the name asked for${typeof error.reason === "string" ? `: ${error.reason}` : ""}`,
    hint: "Connect with a name the certificate lists (a local one is for localhost, 127.0.0.1 and ::1), set servername to one, or make a certificate for this name.",
  }),
  CERT_HAS_EXPIRED: (where) => ({
    message: `the certificate of${at(where)} has expired`,
    hint: "Renew the server's certificate (a throwaway one: restart the server to make a fresh one), and check this machine's clock.",
  }),
  CERT_NOT_YET_VALID: (where) => ({
    message: `the certificate of${at(where)} is not valid yet`,
    hint: "Check the clocks of both machines, or make a certificate whose validity starts now.",
  }),
  ERR_SSL_WRONG_VERSION_NUMBER: NOT_TLS,
  ERR_SSL_HTTP_REQUEST: (where) => ({
    message: `the client${at(where)} sent a plain HTTP request to a TLS (HTTPS) port`,
    hint: "Use https:// for this port; plain http:// goes to the HTTP port.",
  }),
  ERR_TLS_HANDSHAKE_TIMEOUT: (where) => ({
    message: `the TLS handshake with${at(where)} did not finish in time`,
    hint: "A client must finish the handshake within handshakeTimeoutMs; a plain TCP client on a TLS port never does.",
  }),
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: CLIENT_REFUSED,
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: CLIENT_REFUSED,
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: CLIENT_REFUSED,
};

/** How `explain()` words `code`, when it knows it; `unix` when the error is about a path. */
function wordingOf(code: string | undefined, unix: boolean): Wording | undefined {
  if (code === undefined) return undefined;
  if ((SYSTEM_ERROR_CODES as readonly string[]).includes(code)) {
    return (
      (unix ? UNIX_WORDING[code as SystemErrorCode] : undefined) ?? WORDING[code as SystemErrorCode]
    );
  }
  if ((TLS_ERROR_CODES as readonly string[]).includes(code))
    return TLS_WORDING[code as TlsErrorCode];
  return undefined;
}

function addressOf(err: NodeSystemError): string | undefined {
  const address = typeof err.address === "string" ? err.address : undefined;
  // A unix socket's errors carry its path as the address, and port -1.
  const port = typeof err.port === "number" && err.port >= 0 ? err.port : undefined;
  if (address !== undefined && port !== undefined) {
    return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  }
  if (address !== undefined) return address;
  return typeof err.hostname === "string" ? err.hostname : undefined;
}

/**
 * The attempts behind an error. A connect to a name with both an IPv4 and an IPv6 address
 * (Node's autoSelectFamily, e.g. `localhost`) fails with an AggregateError that has the first
 * attempt's `code` but no address: each attempt carries its own.
 */
function attemptsOf(err: NodeSystemError): [NodeSystemError, ...NodeSystemError[]] {
  if (typeof err.address === "string" || !(err instanceof AggregateError)) return [err];
  const [first, ...rest] = err.errors.filter((e): e is NodeSystemError => e instanceof Error);
  return first === undefined ? [err] : [first, ...rest];
}

function describeWhere(attempts: NodeSystemError[], context: ExplainContext): string | undefined {
  const places = new Set(attempts.map(addressOf).filter((place) => place !== undefined));
  return places.size > 0 ? [...places].join(" and ") : context.endpoint;
}

/**
 * Turns any error a socket program meets into a {@link SocketError} with one plain sentence,
 * the endpoint, and a hint. A SocketError passes through unchanged (its hint replaced when the
 * context gives one); a Node system error keeps its `code`, `syscall`, `address` and `port`
 * and becomes the `cause`. Any other error keeps its code and message (`ERR_UNKNOWN` when it has
 * no code) and gets no hint unless the context gives one.
 *
 * @example
 * explain(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7000"),
 *   { code: "ECONNREFUSED", syscall: "connect", address: "127.0.0.1", port: 7000 })).message
 * //=> "connection refused by 127.0.0.1:7000 — no server is listening there"
 */
export function explain(err: unknown, context: ExplainContext = {}): SocketError {
  if (err instanceof SocketError) {
    if (context.hint === undefined) return err;
    return new SocketError(err.code, err.message, {
      cause: err.cause,
      hint: context.hint,
      ...systemFields(err),
    });
  }
  const error: NodeSystemError =
    err instanceof Error ? (err as NodeSystemError) : new Error(String(err));
  const code = typeof error.code === "string" ? error.code : undefined;
  const attempts = attemptsOf(error);
  const fields = systemFields(attempts[0]);
  const wording = wordingOf(code, isUnixPath(attempts[0] ?? error));
  if (code !== undefined && wording !== undefined) {
    const worded = wording(describeWhere(attempts, context), attempts[0]);
    return new SocketError(code, worded.message, {
      cause: err,
      hint: context.hint ?? worded.hint,
      ...fields,
    });
  }
  return new SocketError(code ?? ErrorCode.ERR_UNKNOWN, error.message, {
    cause: err,
    ...(context.hint === undefined ? {} : { hint: context.hint }),
    ...fields,
  });
}

function systemFields(err: NodeSystemError | SocketError): SocketErrorOptions {
  const fields: SocketErrorOptions = {};
  if (typeof err.syscall === "string") fields.syscall = err.syscall;
  if (typeof err.address === "string") fields.address = err.address;
  if (typeof err.port === "number") fields.port = err.port;
  return fields;
}
