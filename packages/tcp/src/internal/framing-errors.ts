/**
 * The errors the framings raise, worded once: sizes with thousands separators, the limit, and
 * what to do about it.
 */

import { ErrorCode, SocketError } from "@socket-lab/core";

const SAME_FRAMING = "check that the peer speaks the same framing";

/** `70000` → `"70,000"`. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** A line longer than `maxLineBytes`; `atLeast` when its end has not arrived yet. */
export function lineTooLarge(
  bytes: number,
  maxLineBytes: number,
  side: "send" | "receive",
  atLeast = false,
): SocketError {
  const size = `${atLeast ? "at least " : ""}${formatCount(bytes)}`;
  return new SocketError(
    ErrorCode.ERR_FRAME_TOO_LARGE,
    `line of ${size} bytes exceeds the limit of ${formatCount(maxLineBytes)} bytes`,
    {
      hint:
        side === "send"
          ? "Split the message, or raise maxLineBytes on both sides."
          : `Raise maxLineBytes on both sides if such lines are expected, or ${SAME_FRAMING} (text lines ending in \\n).`,
    },
  );
}

/** A line whose bytes are not UTF-8, when the decoder rejects such lines. */
export function invalidUtf8Line(bytes: number): SocketError {
  return new SocketError(
    ErrorCode.ERR_INVALID_UTF8,
    `line of ${formatCount(bytes)} bytes is not valid UTF-8`,
    {
      hint: `Use invalidUtf8: "replace" to accept such lines with U+FFFD in place of the bad bytes, use lengthPrefixed() for binary data, or ${SAME_FRAMING}.`,
    },
  );
}

/** A frame longer than `maxFrameBytes`: one being sent, or one whose header was received. */
export function frameTooLarge(
  bytes: number,
  maxFrameBytes: number,
  side: "send" | "receive",
): SocketError {
  const limit = `the limit of ${formatCount(maxFrameBytes)} bytes`;
  if (side === "send") {
    return new SocketError(
      ErrorCode.ERR_FRAME_TOO_LARGE,
      `frame of ${formatCount(bytes)} bytes exceeds ${limit}`,
      { hint: "Split the message, or raise maxFrameBytes on both sides." },
    );
  }
  // The header is the length itself; shown in hex, text sent by a peer that speaks lines is
  // easy to spot ("GET " is 47455420).
  const header = bytes.toString(16).padStart(8, "0");
  return new SocketError(
    ErrorCode.ERR_FRAME_TOO_LARGE,
    `frame header ${header} announces ${formatCount(bytes)} bytes, over ${limit}`,
    {
      hint: `Raise maxFrameBytes on both sides if such frames are expected, or ${SAME_FRAMING} (a 4-byte big-endian length before each frame).`,
    },
  );
}

/** The stream ended inside a length frame. */
export function frameTruncated(received: number, expected: number, part: string): SocketError {
  return new SocketError(
    ErrorCode.ERR_FRAME_TRUNCATED,
    `stream ended after ${formatCount(received)} of the ${formatCount(expected)} bytes of a frame ${part}`,
    {
      hint: `The peer closed the connection in the middle of a frame: ${SAME_FRAMING} and that it does not stop early.`,
    },
  );
}
