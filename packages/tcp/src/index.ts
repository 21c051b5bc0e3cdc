export type { BackoffOptions } from "@socket-lab/core";
export { DEFAULT_CLOSE_TIMEOUT_MS } from "@socket-lab/core";
export type { ConnectOptions } from "./client.js";
export {
  connect,
  DEFAULT_BACKOFF,
  DEFAULT_CONNECT_BACKOFF,
  DEFAULT_CONNECT_RETRIES,
} from "./client.js";
export type {
  CloseOptions,
  Connection,
  ConnectionStats,
  DropReason,
  SendOptions,
} from "./connection.js";
export { DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_MESSAGES_PER_TURN } from "./connection.js";
export type { FrameDecoder, Framing } from "./framing.js";
export type { LengthFramingOptions } from "./length-framing.js";
export { lengthPrefixed, lengthPrefixedPieces } from "./length-framing.js";
export type { LineFramingOptions } from "./line-framing.js";
export { lines } from "./line-framing.js";
export type { SelfSignedCertificate, SelfSignedOptions } from "./self-signed.js";
export { LOCALHOST_NAMES, selfSignedCertificate } from "./self-signed.js";
export type {
  CloseResult,
  DropInfo,
  RejectInfo,
  Server,
  ServerOptions,
  ServerStats,
} from "./server.js";
export {
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MIN_DATA_RATE,
  DEFAULT_MIN_DATA_RATE_GRACE_MS,
  DEFAULT_UNIX_SOCKET_MODE,
  listen,
} from "./server.js";
export type { SocketControls } from "./socket-controls.js";
export type { TlsConnectOptions, TlsInfo, TlsServerOptions } from "./tls.js";
