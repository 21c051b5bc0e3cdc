export type { RequestFrame, RequestHeader, RequestKind } from "./request-frame.js";
export {
  decodeRequestFrame,
  encodeRequestFrame,
  REQUEST_HEADER_BYTES,
} from "./request-frame.js";
export type {
  RequestHandler,
  RequestServer,
  RequestServerStats,
  ServeRequestsOptions,
} from "./request-server.js";
export {
  DEFAULT_DEDUP_MAX_ENTRIES,
  DEFAULT_DEDUP_WINDOW_MS,
  DEFAULT_MAX_AMPLIFICATION,
  DEFAULT_MAX_IN_FLIGHT,
  serveRequests,
} from "./request-server.js";
export type {
  Requester,
  RequesterOptions,
  RequesterStats,
  RequestOptions,
} from "./requester.js";
export {
  createRequester,
  DEFAULT_MAX_REQUEST_TIMEOUT_MS,
  DEFAULT_REQUEST_BACKOFF,
  DEFAULT_REQUEST_RETRIES,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from "./requester.js";
export type { SequenceCounts, SequenceReceipt } from "./sequence-tracker.js";
export { SequenceTracker } from "./sequence-tracker.js";
export type { SequencedHeader, SequencedMessage } from "./sequenced.js";
export {
  decodeSequenced,
  encodeSequenced,
  nowMicros,
  SEQUENCED_HEADER_BYTES,
} from "./sequenced.js";
export type {
  Datagram,
  ReceiveOptions,
  UdpSendOptions,
  UdpSocket,
  UdpSocketOptions,
  UdpSocketStats,
} from "./socket.js";
export { bind, DEFAULT_MAX_PENDING_SENDS, DEFAULT_RECEIVE_QUEUE_SIZE } from "./socket.js";
