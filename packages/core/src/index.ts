export type { SocketAttributes, SocketAttributesOptions, SocketCombination } from "./attributes.js";
export {
  Domain,
  domainName,
  formatAttributeTable,
  formatSocketCall,
  Protocol,
  protocolName,
  SocketType,
  socketAttributes,
  socketTypeName,
  validCombinations,
} from "./attributes.js";
export type { BackoffOptions } from "./backoff.js";
export type {
  Endpoint,
  InetEndpoint,
  ParseEndpointOptions,
  Transport,
  UnixEndpoint,
} from "./endpoint.js";
export {
  DEFAULT_HOST,
  endpointDomain,
  endpointOf,
  formatAddress,
  formatEndpoint,
  isValidHost,
  parseEndpoint,
  parsePort,
} from "./endpoint.js";
export type {
  ExplainContext,
  SocketErrorCode,
  SocketErrorOptions,
  SystemErrorCode,
  TlsErrorCode,
} from "./errors.js";
export {
  ErrorCode,
  explain,
  isSocketError,
  SocketError,
  SYSTEM_ERROR_CODES,
  TLS_ERROR_CODES,
} from "./errors.js";
export {
  DEFAULT_BACKLOG,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_LINE_BYTES,
  MAX_UNIX_PATH_BYTES,
  TUTORIAL_BACKLOG,
  UDP_MAX_PAYLOAD_IPV4,
  UDP_MAX_PAYLOAD_IPV6,
  UDP_SAFE_PAYLOAD_IPV4,
  UDP_SAFE_PAYLOAD_IPV6,
} from "./limits.js";
export type { MermaidTraceOptions, TraceEvent, TraceEventType, TraceListener } from "./trace.js";
export { descriptorOf, formatTraceEvent, mermaidTraceTo, traceTo } from "./trace.js";
