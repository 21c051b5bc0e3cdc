import { DEFAULT_HOST } from "@socket-lab/core";
import { echoCliContract } from "@socket-lab/test-utils/echo-cli-contract";
import {
  UDP_ECHO_MESSAGE,
  UDP_ECHO_REPLY_TIMEOUT_MS,
  UDP_ECHO_RETRIES,
} from "../src/client-options.js";
import { UDP_ECHO_MAX_AMPLIFICATION, UDP_ECHO_PORT } from "../src/server-options.js";
import * as programs from "./_spawn.js";

/** What --help shows for the flags both programs take. */
const shared = { host: DEFAULT_HOST, port: String(UDP_ECHO_PORT) };

echoCliContract({
  protocol: "udp",
  programs,
  defaultPort: 7001,
  peer: "peer",
  client: {
    help: ["--retries N"],
    helpOmits: ["--framing"],
    helpDefaults: {
      ...shared,
      message: UDP_ECHO_MESSAGE,
      timeout: String(UDP_ECHO_REPLY_TIMEOUT_MS / 1000),
      retries: String(UDP_ECHO_RETRIES),
    },
    usageErrors: [
      [["--retries", "many"], "--retries: 'many' is not a whole number"],
      [["--retries", "101"], "--retries: 101 is out of range (0–100)"],
      [["--framing", "lines"], "Unknown option '--framing'"],
    ],
    replyFields: { tries: 1 },
    countSummaryTail: " \\(\\d+ retr(y|ies)\\)",
    // A lost datagram is sent again, so the server may count more than 1,000.
    thousandLinesSummary: /stopped: 1 peer, \d+ messages\n$/,
  },
  server: {
    help: ["--max-amplification RATIO"],
    helpOmits: ["--backlog", "--max-connections", "--idle-timeout", "--framing"],
    helpDefaults: {
      ...shared,
      reply: "echo the message",
      "max-amplification": String(UDP_ECHO_MAX_AMPLIFICATION),
    },
    usageErrors: [
      [["--max-amplification", "0.5"], "--max-amplification: 0.5 is out of range (1–65507)"],
      [["--max-amplification", "lots"], "--max-amplification: 'lots' is not a number"],
      [["--backlog", "5"], "Unknown option '--backlog'"],
    ],
    jsonEvents: ["listening", "message", "stopped"],
    jsonMessage: { sent: true, receivedBytes: 2, replyBytes: 2 },
    jsonStopped: {
      event: "stopped",
      peers: 1,
      messages: 1,
      refused: 0,
      held: { "own-address": 0, "echo-storm": 0, "rate-limit": 0 },
    },
  },
});
