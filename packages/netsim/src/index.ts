export type { Chunking } from "./chunker.js";
export type {
  ChunkingRelay,
  ChunkingRelayOptions,
  ChunkingRelayStats,
  RelayDirectionStats,
  RelayPieceEvent,
} from "./chunking-relay.js";
export { startChunkingRelay } from "./chunking-relay.js";
export type {
  Direction,
  Impairment,
  ImpairmentDecision,
  ImpairmentOptions,
} from "./impairment.js";
export { createImpairment } from "./impairment.js";
export type { KernelLossCount, KernelLossCounters, Snmp, TcpInfo } from "./kernel-counters.js";
export type { KernelLoss, KernelLossOptions } from "./kernel-loss.js";
export {
  DEFAULT_KERNEL_LOSS,
  DEFAULT_KERNEL_LOSS_MTU,
  ERR_NETNS_UNAVAILABLE,
  kernelLossUnavailable,
  withKernelLoss,
} from "./kernel-loss.js";
export type {
  LinkDecisionEvent,
  LinkDirectionStats,
  LinkDirections,
  LossyLink,
  LossyLinkOptions,
  LossyLinkStats,
} from "./lossy-link.js";
export { DEFAULT_REORDER_HOLD_MS, startLossyLink } from "./lossy-link.js";
export type { Random } from "./prng.js";
export { DEFAULT_SEED, mulberry32 } from "./prng.js";
