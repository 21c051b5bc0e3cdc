import {
  DEFAULT_PREVIEW_CHARS,
  escapeText,
  MAX_SPACE_RUN,
  preview,
  previewOf,
} from "@socket-lab/cli";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

/** Every character a terminal acts on instead of showing: none may reach it raw. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

describe("preview", () => {
  test.each([
    ["a screen clear (CSI 2J)", "\u001b[2J", '"\\x1b[2J"'],
    ["a clipboard write (OSC 52)", "\u001b]52;c;aGVsbG8=\u0007", '"\\x1b]52;c;aGVsbG8=\\x07"'],
    ["a C1 CSI", "\u009b31mred", '"\\x9b31mred"'],
    ["a bidi override", "\u202eevil.exe", '"\\u202eevil.exe"'],
    ["bidi isolates", "\u2066a\u2069", '"\\u2066a\\u2069"'],
    ["a line separator", "one\u2028two", '"one\\u2028two"'],
    ["a paragraph separator", "one\u2029two", '"one\\u2029two"'],
    ["zero-width characters and a BOM", "a\u200bb\u200dc\ufeff", '"a\\u200bb\\u200dc\\ufeff"'],
    ["DEL and NUL", "\u007f\u0000", '"\\x7f\\x00"'],
    ["line breaks and tabs", "a\r\nb\tc", '"a\\r\\nb\\tc"'],
    ["quotes and backslashes", 'say "\\x1b"', '"say \\"\\\\x1b\\""'],
    ["a no-break space", "a\u00a0b", '"a\\xa0b"'],
    ["a lone surrogate", "a\ud800b", '"a\\ud800b"'],
    ["ordinary text", "héllo 中文 🙂", '"héllo 中文 🙂"'],
    ["an empty line", "", '""'],
  ])("escapes %s", (_, text, expected) => {
    expect(preview(text)).toBe(expected);
  });

  test("telnet's control bytes (IAC DO ECHO), as bytes: invalid UTF-8 becomes U+FFFD, 0x01 an escape", () => {
    expect(preview(Buffer.from([0xff, 0xfd, 0x01]))).toBe('"\uFFFD\uFFFD\\x01"');
  });

  test("a line padded with spaces cannot wrap into a fake '* alice left' line", () => {
    const padded = `hi${" ".repeat(72)}* alice left`;
    expect(preview(padded)).toBe('"hi\\x20×72* alice left"');
    expect(escapeText(padded)).toBe("hi\\x20×72* alice left");
    // A short run stays as it is.
    expect(preview(`a${" ".repeat(MAX_SPACE_RUN)}b`)).toBe(`"a${" ".repeat(MAX_SPACE_RUN)}b"`);
    expect(preview(`a${" ".repeat(MAX_SPACE_RUN + 1)}b`)).toBe(`"a\\x20×${MAX_SPACE_RUN + 1}b"`);
  });

  test(`cuts after ${DEFAULT_PREVIEW_CHARS} characters and counts the bytes not shown`, () => {
    expect(preview("x".repeat(DEFAULT_PREVIEW_CHARS))).toBe(
      `"${"x".repeat(DEFAULT_PREVIEW_CHARS)}"`,
    );
    expect(preview("x".repeat(65_536))).toBe(
      `"${"x".repeat(DEFAULT_PREVIEW_CHARS)}"…(${(65_536 - DEFAULT_PREVIEW_CHARS).toLocaleString("en-US")} more bytes)`,
    );
    expect(preview("abcdef", { maxChars: 5 })).toBe('"abcde"…(1 more byte)');
    // Never inside an escape or a character: "\x1b" does not fit in 3, 🙂 is not split.
    expect(previewOf("ab\u001b", { maxChars: 3 })).toEqual({ text: "ab", bytes: 3, moreBytes: 1 });
    expect(previewOf("a🙂", { maxChars: 2 })).toEqual({ text: "a", bytes: 5, moreBytes: 4 });
    // Bytes count UTF-8: "é" is 2.
    expect(previewOf("aéé", { maxChars: 2 })).toEqual({ text: "aé", bytes: 5, moreBytes: 2 });
  });

  test("quoted: false leaves quotes and backslashes, for text shown on its own, and still cuts", () => {
    expect(preview('say "\\x1b"\u001b', { quoted: false })).toBe('say "\\x1b"\\x1b');
    expect(preview("x".repeat(200), { quoted: false, maxChars: 3 })).toBe("xxx…(197 more bytes)");
    expect(previewOf('a"b')).toEqual({ text: 'a"b', bytes: 3, moreBytes: 0 });
  });

  test("reads only the start of a large buffer", () => {
    expect(previewOf(Buffer.alloc(8 * 1024 * 1024, "A"), { maxChars: 4 })).toEqual({
      text: "AAAA",
      bytes: 8 * 1024 * 1024,
      moreBytes: 8 * 1024 * 1024 - 4,
    });
  });

  test("rejects a bad maxChars, naming it", () => {
    expect(() => preview("x", { maxChars: 0 })).toThrow(
      /^The value of "maxChars" is out of range. It must be an integer >= 1. Received 0$/,
    );
    expect(() => preview("x", { maxChars: 1.5 })).toThrow(RangeError);
  });

  test("property: any text gives a preview with no unsafe character, quoted, bounded, counted", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 400 }),
        fc.integer({ min: 1, max: 200 }),
        (text, max) => {
          const {
            text: shown,
            bytes,
            moreBytes,
          } = previewOf(text, { maxChars: max, quoted: true });
          expect(UNSAFE.test(shown)).toBe(false);
          expect(shown.length).toBeLessThanOrEqual(max);
          expect(bytes).toBe(Buffer.byteLength(text));
          expect(moreBytes).toBeGreaterThanOrEqual(0);
          expect(moreBytes).toBeLessThanOrEqual(bytes);
          const line = preview(text, { maxChars: max });
          expect(line.startsWith('"')).toBe(true);
          expect(UNSAFE.test(line)).toBe(false);
          // Whole when it fits: the text comes back by undoing the escapes.
          if (moreBytes === 0) expect(undoEscapes(line)).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("escapeText", () => {
  test("escapes without quotes, leaves backslashes, and escaping twice changes nothing", () => {
    const text = 'hi\u001b[2J \u202eevil\u2028x\\y "q"';
    const once = escapeText(text);
    expect(once).toBe('hi\\x1b[2J \\u202eevil\\u2028x\\y "q"');
    expect(escapeText(once)).toBe(once);
    expect(escapeText("Hello from client")).toBe("Hello from client");
  });

  test("property: no unsafe character, and idempotent", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        const once = escapeText(text);
        expect(UNSAFE.test(once)).toBe(false);
        expect(escapeText(once)).toBe(once);
      }),
      { numRuns: 300 },
    );
  });
});

/** Undoes preview's escapes (for the round-trip property). */
function undoEscapes(line: string): string {
  const body = line.slice(1, -1);
  return body.replace(
    /\\(?:x20×(\d+)|x([0-9a-f]{2})|u\{([0-9a-f]+)\}|u([0-9a-f]{4})|([nrt"\\]))/g,
    (_, run, hex2, hexCp, hex4, short) => {
      if (run !== undefined) return " ".repeat(Number(run));
      if (short !== undefined)
        return ({ n: "\n", r: "\r", t: "\t" } as Record<string, string>)[short] ?? short;
      return String.fromCodePoint(Number.parseInt(hex2 ?? hexCp ?? hex4, 16));
    },
  );
}
