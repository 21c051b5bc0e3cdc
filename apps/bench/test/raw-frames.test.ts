import { describe, expect, it } from "vitest";
import { FrameCounter, rawFrame } from "../src/raw-frames.js";

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

describe("rawFrame", () => {
  it("is a 4-byte big-endian length, then the payload", () => {
    expect(rawFrame(3).toString("hex")).toBe("00000003616161");
  });
});
