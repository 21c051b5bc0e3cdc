export { DEFAULT_CLOSE_TIMEOUT_MS } from "@socket-lab/core";
export type { ConnectOptions } from "./client.js";
export { connect } from "./client.js";
export {
  CongestionControl,
  DECREASE_FACTOR,
  DEFAULT_INITIAL_CWND,
  DEFAULT_MIN_CWND,
} from "./congestion.js";
export type {
  ConnectionOptions,
  ConnectionState,
  ReliableConnection,
  ReliableConnectionStats,
  SegmentEvent,
} from "./connection.js";
export {
  DEFAULT_HIGH_WATER_MARK_MESSAGES,
  DEFAULT_LOOPBACK_DATAGRAM_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_PEER_TIMEOUT_MS,
  DEFAULT_RECEIVE_WINDOW,
  DEFAULT_SEND_WINDOW,
} from "./connection.js";
export type { OutgoingSegment, SackRange, Segment, SegmentHeader } from "./header.js";
export {
  decodeSegment,
  decodeSegments,
  encodeSegment,
  encodeSegments,
  FLAG_PACKED,
  formatSegment,
  HEADER_BYTES,
  HEADER_VERSION,
  MAX_ADVERTISED_WINDOW,
  MAX_HEADER_BYTES,
  MAX_SACK_RANGES,
  PACKED_LENGTH_BYTES,
  SegmentType,
  segmentTypeName,
  unwrapSeq,
  wrapSeq,
} from "./header.js";
export type { AcceptResult, Arrival, Delivered } from "./receive-window.js";
export { MAX_SACK_PAGES, ReceiveWindow } from "./receive-window.js";
export type { RtoOptions } from "./rto.js";
export {
  DEFAULT_INITIAL_RTO_MS,
  DEFAULT_MAX_RTO_MS,
  DEFAULT_MIN_RTO_MS,
  RtoEstimator,
} from "./rto.js";
export type { AckOutcome, OutstandingSegment } from "./send-window.js";
export { DUP_THRESHOLD, SendWindow } from "./send-window.js";
export type { ListenOptions, ReliableServer, ReliableServerStats } from "./server.js";
export { listen, RECENT_CONNECTION_IDS } from "./server.js";
