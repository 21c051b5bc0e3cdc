/**
 * Line framing: UTF-8 text, one message per line, each ended by `\n` (`\r\n` accepted).
 * What `nc`, `telnet` and most text protocols speak.
 */

import { constants, isUtf8 } from "node:buffer";
import { DEFAULT_MAX_LINE_BYTES, type SocketError } from "@socket-lab/core";
import {
  checkInteger,
  checkOneOf,
  invalidArgType,
  invalidArgValue,
  withDefaults,
} from "@socket-lab/core/internal";
import type { FrameDecoder, Framing } from "./framing.js";
import { ChunkList } from "./internal/chunk-list.js";
import { invalidUtf8Line, lineTooLarge } from "./internal/framing-errors.js";
import { asBuffer, framingOf } from "./internal/framing-util.js";

const LF = 0x0a;
const CR = 0x0d;
const NOTHING = Buffer.alloc(0);

/** How {@link lines} reads and writes lines. */
export interface LineFramingOptions {
  /**
   * Longest line, in bytes of UTF-8, not counting the `\n` or `\r\n`. Longer lines fail with
   * `ERR_FRAME_TOO_LARGE` when sent, and when received as soon as that many bytes arrive
   * without an end of line, so a peer cannot make the decoder buffer without bound.
   * At most `buffer.constants.MAX_STRING_LENGTH`.
   * @default DEFAULT_MAX_LINE_BYTES (65,536 bytes, 64 KiB)
   */
  maxLineBytes?: number;
  /**
   * What a received line that is not valid UTF-8 becomes: `"replace"` turns each bad byte
   * sequence into U+FFFD (`�`); `"reject"` throws `ERR_INVALID_UTF8`.
   * @default "replace"
   */
  invalidUtf8?: "replace" | "reject";
}

const DEFAULTS: Required<LineFramingOptions> = {
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  invalidUtf8: "replace",
};

/**
 * Line framing: each message is a string of UTF-8 text written as `line + "\n"`. The decoder
 * ends a line at `\n` and strips a `\r` right before it, so `\r\n` from `telnet` or Windows
 * works; a `\r` anywhere else is kept. At `end()` a last line without `\n` is still a message,
 * as in `readline`.
 *
 * A line that ends with `\r` is sent with `\r\n` after it, so the receiver strips only the `\r`
 * the encoder added: `"abc\r"` goes out as `abc\r\r\n`, which decodes to `"abc\r"` again (an
 * echo of it gives back the bytes received). Sending a line that contains `\n` throws a
 * TypeError; any other string `encode` accepts decodes to the same string. Lines that arrive
 * in one chunk are decoded together and are slices of one string, as with `readline`: a line
 * kept for long keeps that text (at most one chunk) in memory.
 *
 * @throws {TypeError|RangeError} for a bad option, naming it and its value.
 * @example
 * const framing = lines();
 * framing.encode("Hello from client");
 * //=> <Buffer 48 65 6c 6c 6f 20 66 72 6f 6d 20 63 6c 69 65 6e 74 0a>
 * const decoder = framing.createDecoder();
 * decoder.push(Buffer.from("Hello\r\nfrom serv"));
 * //=> ["Hello"]
 * decoder.push(Buffer.from("er\n"));
 * //=> ["from server"]
 */
export function lines(options?: LineFramingOptions): Framing<string> {
  const settings = withDefaults(DEFAULTS, options);
  const maxLineBytes = checkInteger(
    "maxLineBytes",
    settings.maxLineBytes,
    0,
    constants.MAX_STRING_LENGTH,
  );
  const invalidUtf8 = checkOneOf("invalidUtf8", settings.invalidUtf8, ["replace", "reject"]);

  const encodedLength = (line: string): number => {
    if (typeof line !== "string") throw invalidArgType("line argument", "of type string", line);
    if (line.includes("\n")) {
      throw invalidArgValue(
        "line argument",
        line,
        "must not contain \\n: it would end the line early",
      );
    }
    const bytes = Buffer.byteLength(line, "utf8");
    if (bytes > maxLineBytes) throw lineTooLarge(bytes, maxLineBytes, "send");
    return bytes + (endsWithCr(line) ? 2 : 1);
  };

  const encodeInto = (line: string, target: Buffer, offset: number): number => {
    let end = offset + target.write(line, offset, "utf8");
    // The receiver strips one `\r` before the `\n`: give it one to strip, not the line's own.
    if (endsWithCr(line)) target[end++] = CR;
    target[end] = LF;
    return end + 1;
  };

  return framingOf({
    name: "lines",
    maxBytes: maxLineBytes,
    createDecoder: () => new LineDecoder(maxLineBytes, invalidUtf8 === "reject"),
    encodedLength,
    encodeInto,
  });
}

/** Whether the line's last character is `\r`, which needs a `\r\n` after it to survive. */
function endsWithCr(line: string): boolean {
  return line.charCodeAt(line.length - 1) === CR;
}

class LineDecoder implements FrameDecoder<string> {
  readonly #maxLineBytes: number;
  readonly #reject: boolean;
  /** The start of the current line, while its `\n` has not arrived. */
  readonly #held = new ChunkList();
  #failure: SocketError | undefined;

  constructor(maxLineBytes: number, reject: boolean) {
    this.#maxLineBytes = maxLineBytes;
    this.#reject = reject;
  }

  get bufferedBytes(): number {
    return this.#held.length;
  }

  get incomplete(): boolean {
    return this.#held.length > 0;
  }

  push(chunk: Uint8Array): string[] {
    if (this.#failure !== undefined) throw this.#failure;
    const buffer = asBuffer(chunk);
    const messages: string[] = [];
    // Only the new chunk is searched: the bytes held from earlier chunks hold no `\n`.
    let start = 0;
    if (this.#held.length > 0) {
      const lf = buffer.indexOf(LF);
      if (lf !== -1) {
        messages.push(this.#completeLine(buffer, 0, lf));
        start = lf + 1;
      }
    }
    const last = buffer.lastIndexOf(LF);
    if (last >= start) {
      this.#completeLines(buffer, start, last, messages);
      start = last + 1;
    }
    if (start < buffer.length) this.#hold(buffer.subarray(start));
    return messages;
  }

  end(): string[] {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#held.length === 0) return [];
    const line = this.#held.take(NOTHING);
    // No `\n` follows, so a last `\r` is part of the line and counts against the limit.
    if (line.length > this.#maxLineBytes) {
      throw this.#fail(lineTooLarge(line.length, this.#maxLineBytes, "receive"));
    }
    return [this.#decode(line, 0, line.length)];
  }

  /** The line that ends at `buffer[lf]`: held bytes, then `buffer[start, lf)`. */
  #completeLine(buffer: Buffer, start: number, lf: number): string {
    const held = this.#held.length;
    const lastByte = lf > start ? buffer[lf - 1] : this.#held.lastByte;
    const length = held + lf - start - (lastByte === CR ? 1 : 0);
    if (length > this.#maxLineBytes) {
      throw this.#fail(lineTooLarge(length, this.#maxLineBytes, "receive"));
    }
    if (held === 0) return this.#decode(buffer, start, start + length);
    return this.#decode(this.#held.take(buffer.subarray(start, lf)), 0, length);
  }

  /**
   * Appends the lines of `buffer[start, last]` to `messages`; no bytes are held and
   * `buffer[last]` is a `\n`.
   */
  #completeLines(buffer: Buffer, start: number, last: number, messages: string[]): void {
    // Decoding the whole run of lines at once is several times faster than line by line.
    // When it gives as many characters as it has bytes, each byte is one character (ASCII,
    // or a lone bad byte that a line-by-line decode also turns into U+FFFD), so character
    // offsets are byte offsets: the text is cut at its `\n`s under the same byte limit.
    const text = buffer.toString("utf8", start, last + 1);
    if (
      text.length === last + 1 - start &&
      (!this.#reject || isUtf8(buffer.subarray(start, last + 1)))
    ) {
      const max = this.#maxLineBytes;
      let from = 0;
      for (let lf = text.indexOf("\n"); lf !== -1; lf = text.indexOf("\n", from)) {
        const end = lf > from && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
        if (end - from > max) throw this.#fail(lineTooLarge(end - from, max, "receive"));
        messages.push(text.slice(from, end));
        from = lf + 1;
      }
      return;
    }
    for (let from = start; from <= last; ) {
      const lf = buffer.indexOf(LF, from);
      messages.push(this.#completeLine(buffer, from, lf));
      from = lf + 1;
    }
  }

  /** Keeps the start of an unterminated line, or fails as soon as it is over the limit. */
  #hold(rest: Buffer): void {
    const held = this.#held.length + rest.length;
    // One byte over is still fine while it is a `\r` that a `\n` may follow.
    const endsWithCr = rest[rest.length - 1] === CR;
    const atLeast = endsWithCr ? held - 1 : held;
    if (atLeast > this.#maxLineBytes) {
      throw this.#fail(lineTooLarge(atLeast, this.#maxLineBytes, "receive", true));
    }
    this.#held.append(rest);
  }

  #decode(buffer: Buffer, start: number, end: number): string {
    if (this.#reject && !isUtf8(buffer.subarray(start, end))) {
      throw this.#fail(invalidUtf8Line(end - start));
    }
    return buffer.toString("utf8", start, end);
  }

  #fail(error: SocketError): SocketError {
    this.#failure = error;
    this.#held.clear();
    return error;
  }
}
