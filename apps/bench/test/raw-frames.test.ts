import { describe, expect, it } from "vitest";
import { FrameAssembler, FrameCounter, rawFrame } from "../src/raw-frames.js";

const stream = Buffer.concat([rawFrame(0), rawFrame(5), rawFrame(300), rawFrame(0), rawFrame(1)]);

describe("FrameCounter", () => {
  it("counts the frames of one chunk, empty frames included", () => {
    expect(new FrameCounter().push(stream)).toBe(5);
  });

  it("counts the same frames however the stream is split", () => {
    for (let size = 1; size <= 9; size++) {
      const counter = new FrameCounter();
      let frames = 0;
      for (let at = 0; at < stream.length; at += size) {
        frames += counter.push(stream.subarray(at, at + size));
      }
      expect(frames, `chunks of ${size}`).toBe(5);
    }
  });

  it("counts a frame only once its last byte arrives", () => {
    const counter = new FrameCounter();
    const frame = rawFrame(300);
    expect(counter.push(frame.subarray(0, 2))).toBe(0);
    expect(counter.push(frame.subarray(2, 303))).toBe(0);
    expect(counter.push(frame.subarray(303))).toBe(1);
  });
});

describe("FrameAssembler", () => {
  const payloads = [0, 5, 300, 0, 1].map((size, i) => Buffer.alloc(size, 0x61 + i));
  const framed = Buffer.concat(
    payloads.map((payload) => {
      const frame = rawFrame(payload.length);
      payload.copy(frame, 4);
      return frame;
    }),
  );

  it("hands on every frame whole, byte for byte, however the stream is split", () => {
    for (let size = 1; size <= framed.length; size += size < 12 ? 1 : 97) {
      const assembler = new FrameAssembler();
      const frames: Buffer[] = [];
      for (let at = 0; at < framed.length; at += size) {
        assembler.push(framed.subarray(at, at + size), (frame) => frames.push(Buffer.from(frame)));
      }
      expect(frames, `chunks of ${size}`).toEqual(payloads);
    }
  });

  it("copies only a frame that spans chunks: one inside a chunk is a view of it", () => {
    const assembler = new FrameAssembler();
    const seen: Buffer[] = [];
    assembler.push(framed, (frame) => seen.push(frame));
    expect(seen.map((frame) => frame.buffer === framed.buffer)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    const big = rawFrame(300);
    const split: Buffer[] = [];
    assembler.push(big.subarray(0, 100), (frame) => split.push(frame));
    assembler.push(big.subarray(100), (frame) => split.push(frame));
    expect(split).toHaveLength(1);
    expect(split[0]?.buffer).not.toBe(big.buffer);
    expect(split[0]).toEqual(big.subarray(4));
  });
});

describe("rawFrame", () => {
  it("is a 4-byte big-endian length, then the payload", () => {
    expect(rawFrame(3).toString("hex")).toBe("00000003616161");
  });
});
