/** Private: the `--framing` flag, which both tcp-echo programs take and must agree on. */

import type { FlagSpec } from "@socket-lab/cli";
import type { EchoFraming } from "../server-options.js";

/** The framings, in the order `--help` lists them; the first is the default. */
export const FRAMINGS = ["lines", "length"] as const satisfies readonly EchoFraming[];

/** `--framing lines|length`. */
export const FRAMING_FLAG = {
  type: "string",
  valueName: "lines|length",
  description:
    "how messages are cut from the stream: lines ending in \\n, or a u32 big-endian length prefix",
  defaultText: "lines",
} as const satisfies FlagSpec;
