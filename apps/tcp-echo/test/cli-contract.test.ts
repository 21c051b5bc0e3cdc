import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_LINE_BYTES,
  TUTORIAL_BACKLOG,
} from "@socket-lab/core";
import { DEFAULT_SEED } from "@socket-lab/netsim";
import { DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from "@socket-lab/tcp";
import { echoCliContract } from "@socket-lab/test-utils/echo-cli-contract";
import { TCP_ECHO_MESSAGE, TCP_ECHO_WINDOW } from "../src/client.js";
import { ECHO_CLOSE_TIMEOUT_MS, TCP_ECHO_FRAMING, TCP_ECHO_PORT } from "../src/server-options.js";
import * as programs from "./_spawn.js";

/** What --help shows for the flags both programs take. */
const shared = { host: DEFAULT_HOST, port: String(TCP_ECHO_PORT), framing: TCP_ECHO_FRAMING };

echoCliContract({
  protocol: "tcp",
  programs,
  defaultPort: 7000,
  peer: "connection",
  client: {
    help: ["--framing", "--window N", "(default: 1000)"],
    helpOmits: ["--retries"],
    helpDefaults: {
      ...shared,
      message: TCP_ECHO_MESSAGE,
      timeout: String(DEFAULT_CONNECT_TIMEOUT_MS / 1000),
      window: String(TCP_ECHO_WINDOW),
      ca: "the system's CAs",
      servername: "HOST when it is a name",
      seed: String(DEFAULT_SEED),
    },
    usageErrors: [
      [["--framing", "json"], "--framing: 'json' is not one of lines, length"],
      [["--window", "0"], "--window: 0 is out of range (1–1000000)"],
      [["--retries", "3"], "Unknown option '--retries'"],
    ],
    replyFields: {},
    countSummaryTail: "",
    thousandLinesSummary: /stopped: 1 connection, 1000 messages\n/,
  },
  server: {
    help: [
      "--framing lines|length",
      "--backlog N",
      "--max-connections N",
      "--idle-timeout SECONDS",
      "(default: 5)",
    ],
    helpOmits: ["--max-amplification"],
    helpDefaults: {
      ...shared,
      reply: "echo the message",
      backlog: String(TUTORIAL_BACKLOG),
      "max-connections": String(DEFAULT_MAX_CONNECTIONS),
      "idle-timeout": String(DEFAULT_IDLE_TIMEOUT_MS / 1000),
      "max-frame": `${DEFAULT_MAX_FRAME_BYTES} for frames, ${DEFAULT_MAX_LINE_BYTES} for lines`,
      "max-buffered": String(DEFAULT_MAX_BUFFERED_BYTES),
      "max-per-address": String(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
      "close-timeout": String(ECHO_CLOSE_TIMEOUT_MS / 1000),
    },
    usageErrors: [
      [["--framing", "json"], "--framing: 'json' is not one of lines, length"],
      [["--backlog", "0"], "--backlog: 0 is out of range (1–65535)"],
      [["--max-connections", "many"], "--max-connections: 'many' is not a whole number"],
      [["--idle-timeout=-1"], "--idle-timeout: -1 is out of range (0–86400)"],
      [["--prot", "7000"], "Unknown option '--prot'"],
    ],
    jsonEvents: ["listening", "connect", "message", "disconnect", "stopped"],
    jsonMessage: {},
    jsonStopped: { event: "stopped", connections: 1, rejected: 0, messages: 1 },
  },
});
