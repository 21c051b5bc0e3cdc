import { echoCliContract } from "@socket-lab/test-utils/echo-cli-contract";
import * as programs from "./_spawn.js";

echoCliContract({
  protocol: "tcp",
  programs,
  defaultPort: 7000,
  peer: "connection",
  client: {
    help: ["--framing", "--window N", "(default: 1000)"],
    helpOmits: ["--retries"],
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
