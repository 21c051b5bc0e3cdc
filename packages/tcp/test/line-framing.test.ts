import { DEFAULT_MAX_LINE_BYTES, ErrorCode, SocketError } from "@socket-lab/core";
import { describe, expect, it } from "vitest";
import { type FrameDecoder, type LineFramingOptions, lines } from "../src/index.js";

/** Every message from pushing `chunks` one by one, then `end()`. */
function decodeAll(chunks: (string | Uint8Array)[], options?: LineFramingOptions): string[] {
  const decoder = lines(options).createDecoder();
  const messages: string[] = [];
  for (const chunk of chunks) {
    messages.push(...decoder.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
  }
  messages.push(...decoder.end());
  return messages;
}

/** The error `fn` throws; fails the test when it returns. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail("expected a throw");
}

function expectSocketError(fn: () => unknown, code: string): SocketError {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(SocketError);
  expect((error as SocketError).code).toBe(code);
  return error as SocketError;
}

const repeat = (n: number, char = "a") => char.repeat(n);

describe("lines(): decoding", () => {
  it("splits at \\n and keeps empty lines", () => {
    expect(decodeAll(["one\ntwo\n\n\nthree\n"])).toEqual(["one", "two", "", "", "three"]);
    expect(decodeAll(["\n"])).toEqual([""]);
  });

  it("strips a \\r right before \\n, also when the \\n comes in the next chunk", () => {
    expect(decodeAll(["one\r\ntwo\r\n"])).toEqual(["one", "two"]);
    expect(decodeAll(["one\r", "\ntwo\r", "\n"])).toEqual(["one", "two"]);
    expect(decodeAll(["\r\n"])).toEqual([""]);
  });

  it("keeps a \\r that is not right before \\n", () => {
    expect(decodeAll(["a\rb\n"])).toEqual(["a\rb"]);
    expect(decodeAll(["\r\r\n"])).toEqual(["\r"]);
    expect(decodeAll(["a\r", "b\n"])).toEqual(["a\rb"]);
    expect(decodeAll(["\ra\n"])).toEqual(["\ra"]);
  });

  it("decodes multi-byte UTF-8 split at every byte position", () => {
    const text = "héllo € 𝄞 日本\n";
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([text.trimEnd()]);
    }
    expect(decodeAll([...bytes].map((byte) => Uint8Array.of(byte)))).toEqual([text.trimEnd()]);
  });

  it("decodes a stream split at every byte position into two and three chunks", () => {
    const expected = ["first", "", "sëcond\rline", "thïrd"];
    const bytes = Buffer.from("first\n\r\nsëcond\rline\r\nthïrd\n");
    for (let a = 0; a <= bytes.length; a++) {
      expect(decodeAll([bytes.subarray(0, a), bytes.subarray(a)])).toEqual(expected);
      for (let b = a; b <= bytes.length; b++) {
        const chunks = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
        expect(decodeAll(chunks)).toEqual(expected);
      }
    }
  });

  it("decodes a long line that arrives in pieces of mixed sizes, big and small", () => {
    const line = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26)));
    const bytes = Buffer.from(`${line.join("")}\r\nnext\n`);
    const decoder = lines({ maxLineBytes: 100_000 }).createDecoder();
    const messages: string[] = [];
    const sizes = [1, 700, 3, 5000, 511, 512, 4096, 2, 4095];
    for (let pos = 0, i = 0; pos < bytes.length; i++) {
      const piece = bytes.subarray(pos, pos + (sizes[i % sizes.length] ?? 1));
      pos += piece.length;
      messages.push(...decoder.push(piece));
      if (messages.length === 0) expect(decoder.bufferedBytes).toBe(pos);
    }
    expect(messages).toEqual([line.join(""), "next"]);
  });

  it("returns many lines from one chunk in order", () => {
    const expected = Array.from({ length: 10_000 }, (_, i) => `line ${i}`);
    expect(decodeAll([`${expected.join("\n")}\n`])).toEqual(expected);
  });

  it("accepts Uint8Array chunks that are views into a larger buffer", () => {
    const backing = new TextEncoder().encode("xxhi\nthere\nxx");
    expect(decodeAll([backing.subarray(2, 11)])).toEqual(["hi", "there"]);
  });

  it("keeps a byte order mark at the start of a line", () => {
    expect(decodeAll(["\uFEFFhi\n"])).toEqual(["\uFEFFhi"]);
    expect(decodeAll(["\uFEFFhi\n"], { invalidUtf8: "reject" })).toEqual(["\uFEFFhi"]);
  });
});

describe("lines(): invalid UTF-8", () => {
  const bad = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x0a]); // a, invalid byte, b, cut-off é, \n

  it('replaces bad bytes with U+FFFD by default and with "replace"', () => {
    expect(decodeAll([bad])).toEqual(["a\uFFFDb\uFFFD"]);
    expect(decodeAll([bad], { invalidUtf8: "replace" })).toEqual(["a\uFFFDb\uFFFD"]);
  });

  it('throws ERR_INVALID_UTF8 with "reject", also for the last line at end()', () => {
    const decoder = lines({ invalidUtf8: "reject" }).createDecoder();
    expect(decoder.push(Buffer.from("fine\n"))).toEqual(["fine"]);
    const error = expectSocketError(() => decoder.push(bad), ErrorCode.ERR_INVALID_UTF8);
    expect(error.message).toBe("line of 4 bytes is not valid UTF-8");
    expect(error.hint).toContain('invalidUtf8: "replace"');

    const atEnd = lines({ invalidUtf8: "reject" }).createDecoder();
    expect(atEnd.push(Uint8Array.of(0xe2, 0x82))).toEqual([]);
    expectSocketError(() => atEnd.end(), ErrorCode.ERR_INVALID_UTF8);
  });

  it('accepts a valid character split across chunks with "reject"', () => {
    const euro = Buffer.from("€\n");
    expect(decodeAll([euro.subarray(0, 1), euro.subarray(1)], { invalidUtf8: "reject" })).toEqual([
      "€",
    ]);
  });
});

describe("lines(): many lines in one chunk (decoded as one run)", () => {
  /** The same bytes pushed one at a time: every line then goes through the byte-wise path. */
  const byteByByte = (bytes: Buffer, options?: LineFramingOptions) =>
    decodeAll(
      [...bytes].map((byte) => Uint8Array.of(byte)),
      options,
    );

  it("gives the same lines as byte-by-byte decoding: \r\n, empty lines, a held start", () => {
    const bytes = Buffer.from("one\r\n\r\ntwo\n\n\r\rthree\nfour\r\nfi");
    expect(decodeAll([bytes, Buffer.from("ve\n")])).toEqual([
      "one",
      "",
      "two",
      "",
      "\r\rthree",
      "four",
      "five",
    ]);
    expect(decodeAll([bytes, Buffer.from("ve\n")])).toEqual(
      byteByByte(Buffer.from(`${bytes}ve\n`)),
    );
  });

  it("gives the same lines as byte-by-byte decoding with lone bad bytes", () => {
    // Each bad byte stands alone, so the run decodes to as many characters as it has bytes.
    const bytes = Buffer.concat([
      Buffer.from("a\n"),
      Uint8Array.of(0xff, 0x62, 0x0a, 0x80, 0x0a, 0xc3, 0x0a, 0x63, 0xc3, 0x0d, 0x0a),
    ]);
    expect(decodeAll([bytes])).toEqual(["a", "\uFFFDb", "\uFFFD", "\uFFFD", "c\uFFFD"]);
    expect(decodeAll([bytes])).toEqual(byteByByte(bytes));
  });

  it("gives the same lines as byte-by-byte decoding with multi-byte text and cut sequences", () => {
    const bytes = Buffer.concat([
      Buffer.from("né\r\n€\n"),
      Uint8Array.of(0xe2, 0x82, 0x0a, 0xf0, 0x9d, 0x84, 0x9e, 0x0a),
    ]);
    expect(decodeAll([bytes])).toEqual(["né", "€", "\uFFFD", "𝄞"]);
    expect(decodeAll([bytes])).toEqual(byteByByte(bytes));
  });

  it('rejects a bad byte inside a run with "reject", and accepts valid text there', () => {
    expect(decodeAll(["a\nb\r\n"], { invalidUtf8: "reject" })).toEqual(["a", "b"]);
    expect(decodeAll(["a\nné\n€\n"], { invalidUtf8: "reject" })).toEqual(["a", "né", "€"]);
    const bad = Buffer.concat([Buffer.from("a\nb"), Uint8Array.of(0xff), Buffer.from("\nc\n")]);
    const decoder = lines({ invalidUtf8: "reject" }).createDecoder();
    expectSocketError(() => decoder.push(bad), ErrorCode.ERR_INVALID_UTF8);
  });

  it("applies the limit to every line of the run, in bytes", () => {
    const options = { maxLineBytes: 4 };
    expect(decodeAll(["ab\nabcd\nabcd\r\n"], options)).toEqual(["ab", "abcd", "abcd"]);
    const decoder = lines(options).createDecoder();
    const error = expectSocketError(
      () => decoder.push(Buffer.from("ab\nabcde\nc\n")),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expect(error.message).toBe("line of 5 bytes exceeds the limit of 4 bytes");
    expect(decodeAll(["ab\néé\n"], options)).toEqual(["ab", "éé"]);
    expectSocketError(() => decodeAll(["ab\néé€\n"], options), ErrorCode.ERR_FRAME_TOO_LARGE);
  });
});

describe("lines(): the line limit", () => {
  const max = 10;
  const framing = lines({ maxLineBytes: max });

  it("uses 64 KiB by default and reports it as maxBytes", () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(65_536);
    expect(lines().maxBytes).toBe(65_536);
    expect(framing.maxBytes).toBe(max);
    expect(lines().name).toBe("lines");
  });

  it("accepts a line of exactly the limit, with \\n or \\r\\n, in one chunk or byte by byte", () => {
    for (const ending of ["\n", "\r\n"]) {
      const bytes = Buffer.from(`${repeat(max)}${ending}`);
      expect(decodeAll([bytes], { maxLineBytes: max })).toEqual([repeat(max)]);
      const single = [...bytes].map((byte) => Uint8Array.of(byte));
      expect(decodeAll(single, { maxLineBytes: max })).toEqual([repeat(max)]);
    }
  });

  it("rejects a line of the limit + 1 when its \\n is in the same chunk", () => {
    const decoder = framing.createDecoder();
    const error = expectSocketError(
      () => decoder.push(Buffer.from(`ok\n${repeat(max + 1)}\n`)),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expect(error.message).toBe("line of 11 bytes exceeds the limit of 10 bytes");
    expect(error.hint).toMatch(/maxLineBytes.*same framing/);
  });

  it("counts bytes of UTF-8, not characters", () => {
    // Five 2-byte characters fill the 10 bytes; one more ASCII byte is over.
    expect(decodeAll(["ééééé\n"], { maxLineBytes: max })).toEqual(["ééééé"]);
    expectSocketError(
      () => decodeAll(["éééééa\n"], { maxLineBytes: max }),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
  });

  it("fails as soon as the unterminated line is over the limit, before any \\n arrives", () => {
    const decoder = framing.createDecoder();
    expect(decoder.push(Buffer.from(repeat(max)))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(max);
    const error = expectSocketError(
      () => decoder.push(Buffer.from("b")),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expect(error.message).toBe("line of at least 11 bytes exceeds the limit of 10 bytes");
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("fails on one huge chunk without a \\n without keeping it", () => {
    const decoder = lines().createDecoder();
    const error = expectSocketError(
      () => decoder.push(Buffer.alloc(70_000, 0x61)),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expect(error.message).toBe("line of at least 70,000 bytes exceeds the limit of 65,536 bytes");
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("holds one byte over the limit only while it is a \\r that a \\n may follow", () => {
    const waiting = framing.createDecoder();
    expect(waiting.push(Buffer.from(`${repeat(max)}\r`))).toEqual([]);
    expect(waiting.bufferedBytes).toBe(max + 1);
    expect(waiting.push(Buffer.from("\n"))).toEqual([repeat(max)]);
    expect(waiting.bufferedBytes).toBe(0);

    const notCrLf = framing.createDecoder();
    notCrLf.push(Buffer.from(`${repeat(max)}\r`));
    expectSocketError(() => notCrLf.push(Buffer.from("x")), ErrorCode.ERR_FRAME_TOO_LARGE);

    // At the end of the stream no \n follows, so the \r is part of the line.
    const ended = framing.createDecoder();
    ended.push(Buffer.from(`${repeat(max)}\r`));
    expectSocketError(() => ended.end(), ErrorCode.ERR_FRAME_TOO_LARGE);
  });

  it("accepts maxLineBytes: 0, which allows only empty lines", () => {
    expect(decodeAll(["\n\r\n"], { maxLineBytes: 0 })).toEqual(["", ""]);
    expectSocketError(() => decodeAll(["a"], { maxLineBytes: 0 }), ErrorCode.ERR_FRAME_TOO_LARGE);
  });
});

describe("lines(): bufferedBytes and end()", () => {
  it("counts exactly the bytes of the unterminated line", () => {
    const decoder = lines().createDecoder();
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(Buffer.from("ab"))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.push(Buffer.from("c\r"))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(4);
    expect(decoder.push(Buffer.from("\nde"))).toEqual(["abc"]);
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.push(Buffer.from("\n"))).toEqual(["de"]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("returns a last line without \\n at end(), like readline, and nothing when empty", () => {
    expect(decodeAll(["one\ntwo"])).toEqual(["one", "two"]);
    expect(decodeAll(["one\n"])).toEqual(["one"]);
    expect(decodeAll([])).toEqual([]);
    expect(decodeAll(["last\r"])).toEqual(["last\r"]);
  });

  it("is empty after end()", () => {
    const decoder = lines().createDecoder();
    decoder.push(Buffer.from("tail"));
    expect(decoder.end()).toEqual(["tail"]);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.end()).toEqual([]);
  });

  it("is spent after an error: every later push and end throws the same error", () => {
    const decoder = lines({ maxLineBytes: 3 }).createDecoder();
    const first = thrownBy(() => decoder.push(Buffer.from("ok\ntoo long\nfine\n")));
    expect((first as SocketError).code).toBe(ErrorCode.ERR_FRAME_TOO_LARGE);
    expect(thrownBy(() => decoder.push(Buffer.from("ok\n")))).toBe(first);
    expect(thrownBy(() => decoder.end())).toBe(first);
  });
});

describe("lines(): encoding", () => {
  const framing = lines();

  it('writes line + "\\n"', () => {
    expect(framing.encode("Hello from client").toString()).toBe("Hello from client\n");
    expect(framing.encode("").toString("hex")).toBe("0a");
    expect(framing.encode("é€").toString("hex")).toBe("c3a9e282ac0a");
  });

  it("gives encodedLength in bytes of UTF-8 plus the \\n", () => {
    expect(framing.encodedLength("")).toBe(1);
    expect(framing.encodedLength("abc")).toBe(4);
    expect(framing.encodedLength("é€𝄞")).toBe(2 + 3 + 4 + 1);
  });

  it("packs many lines into one buffer with encodedLength + encodeInto", () => {
    const messages = ["one", "", "thrée", "\r in the middle"];
    const size = messages.reduce((sum, m) => sum + framing.encodedLength(m), 0);
    const packet = Buffer.alloc(size);
    let offset = 0;
    for (const message of messages) offset = framing.encodeInto(message, packet, offset);
    expect(offset).toBe(size);
    expect(packet.toString()).toBe("one\n\nthrée\n\r in the middle\n");
    expect(decodeAll([packet])).toEqual(messages);
  });

  it("throws a TypeError for a line with \\n, or a non-string", () => {
    expect(() => framing.encode("two\nlines")).toThrow(TypeError);
    expect(() => framing.encode(42 as unknown as string)).toThrow(TypeError);
  });

  it("sends a line ending with \\r with \\r\\n after it, so it decodes to itself", () => {
    // `abc\r\r\n` decodes to "abc\r"; encoding that gives back the same bytes (issue 17, item 7).
    const received = decodeAll([Buffer.from("abc\r\r\ndef\n")]);
    expect(received).toEqual(["abc\r", "def"]);
    expect(Buffer.concat(received.map((line) => framing.encode(line))).toString()).toBe(
      "abc\r\r\ndef\n",
    );
    expect(framing.encodedLength("abc\r")).toBe(6);
    expect(framing.encode("\r").toString()).toBe("\r\r\n");
    expect(decodeAll([framing.encode("\r"), framing.encode("\r\r")])).toEqual(["\r", "\r\r"]);
    // The limit counts the line's own \r, as the decoder does, and not the \r\n after it.
    const small = lines({ maxLineBytes: 4 });
    expect(small.encode("abc\r").toString()).toBe("abc\r\r\n");
    expect(small.createDecoder().push(small.encode("abc\r"))).toEqual(["abc\r"]);
    expectSocketError(() => small.encode("abcd\r"), ErrorCode.ERR_FRAME_TOO_LARGE);
  });

  it("accepts a line of exactly the limit and rejects one byte more", () => {
    const small = lines({ maxLineBytes: 4 });
    expect(small.encode("abcd").toString()).toBe("abcd\n");
    expect(small.encode("é").length).toBe(3);
    expectSocketError(() => small.encodedLength("abcde"), ErrorCode.ERR_FRAME_TOO_LARGE);
    expectSocketError(() => small.encode("ab€"), ErrorCode.ERR_FRAME_TOO_LARGE);
  });

  it("words the too-large error with the size and the limit", () => {
    const error = expectSocketError(
      () => framing.encode(repeat(70_000)),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expect(error.message).toBe("line of 70,000 bytes exceeds the limit of 65,536 bytes");
    expect(error.hint).toContain("maxLineBytes");
  });
});

describe("lines(): options", () => {
  it("rejects bad options with TypeError or RangeError naming the option and value", () => {
    expect(() => lines({ maxLineBytes: -1 })).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "maxLineBytes" is out of range. It must be an integer >= 0 && <= 536870888. Received -1',
      }),
    );
    expect(() => lines({ maxLineBytes: 1.5 })).toThrow(/"maxLineBytes".*Received 1\.5$/);
    expect(() => lines({ maxLineBytes: Number.NaN })).toThrow(RangeError);
    expect(() => lines({ maxLineBytes: "10" as unknown as number })).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_TYPE",
        message: `The "maxLineBytes" option must be of type number. Received type string ('10')`,
      }),
    );
    expect(() => lines({ invalidUtf8: "drop" as "reject" })).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_VALUE",
        message: `The "invalidUtf8" option must be one of: 'replace', 'reject'. Received 'drop'`,
      }),
    );
  });

  it("keeps the default for an option given as undefined", () => {
    expect(lines({ maxLineBytes: undefined, invalidUtf8: undefined }).maxBytes).toBe(65_536);
    expect(decodeAll([Uint8Array.of(0xff, 0x0a)], { invalidUtf8: undefined })).toEqual(["\uFFFD"]);
  });

  it("gives each decoder its own state", () => {
    const framing = lines();
    const a: FrameDecoder<string> = framing.createDecoder();
    const b = framing.createDecoder();
    a.push(Buffer.from("from a"));
    expect(b.push(Buffer.from("from b\n"))).toEqual(["from b"]);
    expect(a.push(Buffer.from("\n"))).toEqual(["from a"]);
  });
});
