/** One implementation for the apps: `@socket-lab/core/internal`'s (not public API). */
export { withDefaults } from "@socket-lab/core/internal";
export type { ClientMessagesOptions } from "./client-messages.js";
export { clientMessages, pipedLinesOr } from "./client-messages.js";
export type { CommandContext, CommandIo, CommandOptions } from "./command.js";
export {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  formatFailure,
  formatHelp,
  runCommand,
} from "./command.js";
export type { FlagSpec, FlagSpecs, FlagValues, IntegerRange } from "./flags.js";
export {
  HOST_FLAG,
  JSON_FLAG,
  parseChoiceFlag,
  parseHostFlag,
  parseIntegerFlag,
  parseLineFlag,
  parseNumberFlag,
  parsePortFlag,
  parseRateFlag,
  parseSecondsFlag,
  portFlag,
  TRACE_FLAG,
  traceFlag,
  UsageError,
} from "./flags.js";
export type { LineOutput, LineOutputOptions, LineOutputStats } from "./line-output.js";
export { createLineOutput, DEFAULT_MAX_QUEUED_OUTPUT_BYTES } from "./line-output.js";
export type { MessageLimiter, MessageLimiterOptions, NotShown } from "./message-limiter.js";
export {
  createMessageLimiter,
  DEFAULT_LINES_PER_SOURCE,
  DEFAULT_LINES_PER_WINDOW,
  DEFAULT_LOG_WINDOW_MS,
  DEFAULT_MAX_LOG_SOURCES,
  DEFAULT_MAX_SUMMARIES,
} from "./message-limiter.js";
export type { PeerTextPreview, PreviewOptions } from "./peer-text.js";
export {
  DEFAULT_PREVIEW_CHARS,
  escapeText,
  MAX_SPACE_RUN,
  preview,
  previewOf,
  printable,
} from "./peer-text.js";
export type { Printer } from "./printer.js";
export { counted, createPrinter } from "./printer.js";
export type { LogRecord, ServerLog, ServerLogOptions } from "./server-log.js";
export { createServerLog } from "./server-log.js";
export { isSocketFile, staleSocketReplaced } from "./socket-file.js";
