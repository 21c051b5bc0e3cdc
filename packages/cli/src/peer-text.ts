/**
 * Text that came from a peer, made safe to show on a terminal or in a log: every character that
 * could move the cursor, recolour or clear the screen, write the clipboard (OSC 52), reorder the
 * line (bidi overrides) or start a new one (U+2028) is shown as an escape instead, and a long run
 * of spaces is shown as a count, so a padded line cannot wrap into a fake line of its own.
 */

import { checkInteger } from "@socket-lab/core/internal";

/** Characters of escaped text a log preview shows before it is cut. */
export const DEFAULT_PREVIEW_CHARS = 120;

/** Spaces in a row shown as they are; a longer run is shown as `\x20×N`. */
export const MAX_SPACE_RUN = 8;

// C0 and C1 controls with DEL (Cc), invisible format characters (Cf: bidi overrides and isolates,
// zero-width spaces, the BOM, …), the line and paragraph separators U+2028/U+2029, lone
// surrogates, every space but U+0020, and runs of more than MAX_SPACE_RUN spaces.
const SPECIAL = `[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Cs}\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000]| {${MAX_SPACE_RUN + 1},}`;
const BARE = new RegExp(SPECIAL, "gu");
const QUOTED = new RegExp(`${SPECIAL}|["\\\\]`, "gu");

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  '"': '\\"',
  "\\": "\\\\",
};

function escapeMatch(match: string): string {
  if (match.startsWith("  ")) return `\\x20×${match.length}`;
  const short = SHORT_ESCAPES[match];
  if (short !== undefined) return short;
  const code = match.codePointAt(0) ?? 0;
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\u{${code.toString(16)}}`;
}

/**
 * Peer text with every unsafe character escaped (`\x1b`, `\u202e`, `\n`, …) and long runs of
 * spaces counted (`\x20×40`), unquoted and uncut: what a client shows of a line it received.
 * Backslashes are left as they are, so escaping twice changes nothing.
 * @example
 * escapeText("hi\u001b[2J")      //=> "hi\\x1b[2J"
 * escapeText("\u202eevil")       //=> "\\u202eevil"
 * escapeText("héllo 中文 🙂")    //=> "héllo 中文 🙂"
 */
export function escapeText(text: string): string {
  BARE.lastIndex = 0;
  return BARE.test(text) ? text.replace(BARE, escapeMatch) : text;
}

/** Options of {@link previewOf} and {@link preview}. */
export interface PreviewOptions {
  /**
   * Characters (UTF-16 code units) of escaped text shown; the preview is cut there, never inside
   * an escape or a character. `Infinity` never cuts.
   * @default DEFAULT_PREVIEW_CHARS (120)
   */
  maxChars?: number;
  /**
   * Also escape `"` and `\`, so that a preview between quotes has unambiguous ends.
   * @default false for previewOf, true for preview
   */
  quoted?: boolean;
}

/** A preview of peer data, in pieces: see {@link previewOf}. */
export interface PeerTextPreview {
  /** The escaped text shown, without quotes. */
  readonly text: string;
  /** Bytes of the whole message (its UTF-8 length when given as a string). */
  readonly bytes: number;
  /** Bytes of the message not shown, because the preview was cut; 0 when it is whole. */
  readonly moreBytes: number;
}

/**
 * The pieces of {@link preview}: the escaped text shown (see {@link escapeText}), cut after
 * `maxChars`; the message's length; and how many bytes were not shown. Only the part shown is
 * escaped, so a long message costs little. For a `--json` record: `text` and `bytes`.
 * @throws {RangeError} when `maxChars` is not a whole number from 1.
 * @example
 * previewOf("abcdef", { maxChars: 3 }) //=> { text: "abc", bytes: 6, moreBytes: 3 }
 */
export function previewOf(
  data: string | Uint8Array,
  options: PreviewOptions = {},
): PeerTextPreview {
  const { maxChars = DEFAULT_PREVIEW_CHARS, quoted = false } = options;
  if (maxChars !== Number.POSITIVE_INFINITY) checkInteger("maxChars", maxChars, 1);
  const bytes = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
  // A Uint8Array is decoded only as far as a preview can reach: 4 bytes a character at most.
  const text =
    typeof data === "string"
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          .subarray(0, Math.min(data.byteLength, maxChars * 4 + 4))
          .toString("utf8");
  const special = quoted ? QUOTED : BARE;
  let shown = "";
  let at = 0; // code units of `text` consumed
  special.lastIndex = 0;
  while (at < text.length) {
    const match = special.exec(text);
    const plainEnd = match === null ? text.length : match.index;
    const room = maxChars - shown.length;
    if (plainEnd - at > room) {
      let end = at + room;
      // Never split a surrogate pair: a cut lands before the high half.
      if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
      shown += text.slice(at, end);
      at = end;
      break;
    }
    shown += text.slice(at, plainEnd);
    at = plainEnd;
    if (match === null) break;
    const escaped = escapeMatch(match[0]);
    if (shown.length + escaped.length > maxChars) break;
    shown += escaped;
    at = special.lastIndex;
  }
  // Invalid UTF-8 shown as U+FFFD takes more bytes than it had: never count below 0.
  const moreBytes = Math.max(0, bytes - Buffer.byteLength(text.slice(0, at)));
  return { text: shown, bytes, moreBytes };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * Peer data as one safe piece of a log line: escaped (see {@link escapeText}; quoted, also `"` and
 * `\`), and cut after `maxChars` with the count of bytes not shown.
 * @throws {RangeError} when `maxChars` is not a whole number from 1.
 * @example
 * preview("hi\u001b]52;c;aGk=\u0007")            //=> "\"hi\\x1b]52;c;aGk=\\x07\""
 * preview("x".repeat(500), { maxChars: 10 })    //=> "\"xxxxxxxxxx\"…(490 more bytes)"
 * preview("a\u202eb", { quoted: false })        //=> "a\\u202eb"
 */
export function preview(data: string | Uint8Array, options: PreviewOptions = {}): string {
  const quoted = options.quoted ?? true;
  const { text, moreBytes } = previewOf(data, { ...options, quoted });
  const shown = quoted ? `"${text}"` : text;
  if (moreBytes === 0) return shown;
  return `${shown}…(${moreBytes.toLocaleString("en-US")} more ${moreBytes === 1 ? "byte" : "bytes"})`;
}

/**
 * Text received from the network, whole, quoted and escaped for a log line, so a peer cannot move
 * the cursor, recolour the terminal or reorder the line; {@link preview} also cuts it.
 * @example
 * printable("hi\u001b[2J") //=> "\"hi\\x1b[2J\""
 */
export function printable(text: string): string {
  return preview(text, { maxChars: Number.POSITIVE_INFINITY });
}
