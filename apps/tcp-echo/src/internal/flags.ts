/** Private: the `--framing` flag, which both tcp-echo programs take and must agree on. */

import { type FlagSpec, parseChoiceFlag } from "@socket-lab/cli";
import { type EchoFraming, TCP_ECHO_FRAMING } from "../server-options.js";

/** The framings, in the order `--help` lists them. */
export const FRAMINGS = ["lines", "length"] as const satisfies readonly EchoFraming[];

/**
 * `--framing lines|length`. Without a `default`, absent stays `undefined`: the client names
 * `--framing` in its start-the-server hint only when it was given; the server adds the default.
 */
export const FRAMING_FLAG = {
  type: "string",
  valueName: "lines|length",
  description:
    "how messages are cut from the stream: lines ending in \\n, or a u32 big-endian length prefix",
  defaultText: TCP_ECHO_FRAMING,
  parse: (flag, value) => parseChoiceFlag(flag, value, FRAMINGS),
} as const satisfies FlagSpec<EchoFraming>;
