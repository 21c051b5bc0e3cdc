export type { FrameDecoder, Framing } from "./framing.js";
export type { LineFramingOptions } from "./line-framing.js";
export { lines } from "./line-framing.js";
export type { LengthFramingOptions } from "./length-framing.js";
export { lengthPrefixed } from "./length-framing.js";
