/**
 * Framing turns a byte stream, which has no message boundaries, into messages and back.
 * Decoders are pure and incremental: no socket inside, fed chunks as they arrive.
 */

/** An incremental decoder: feed it bytes in any split, get whole messages back in order. */
export interface FrameDecoder<M> {
  /**
   * Appends a chunk and returns every message it completes, in order (often none).
   * @throws {SocketError} `ERR_FRAME_TOO_LARGE` as soon as a header or a line shows a frame
   *   over the limit, before buffering it; `ERR_INVALID_UTF8` for a bad line when told to reject.
   *   After a throw the decoder is spent: every later call throws the same error.
   */
  push(chunk: Uint8Array): M[];
  /**
   * Marks the end of the stream and returns what it completes: for lines, a last line without
   * its `\n`; for length frames, nothing.
   * @throws {SocketError} `ERR_FRAME_TRUNCATED` when a length frame was cut short.
   */
  end(): M[];
  /** Bytes held while waiting for the rest of a frame. */
  readonly bufferedBytes: number;
}

/** A wire format: how messages of type `M` are written to and read from a byte stream. */
export interface Framing<M> {
  /** `"lines"` or `"length"`. */
  readonly name: string;
  /** The largest message payload in bytes this framing accepts, on both send and receive. */
  readonly maxBytes: number;
  /** A fresh decoder for one connection. */
  createDecoder(): FrameDecoder<M>;
  /**
   * Bytes `message` takes on the wire, header or terminator included.
   * @throws {SocketError} `ERR_FRAME_TOO_LARGE` over `maxBytes`;
   *   {TypeError} for a line containing `\n`.
   */
  encodedLength(message: M): number;
  /**
   * Writes the encoded message into `target` at `offset` (the caller made room for
   * `encodedLength(message)` bytes) and returns the offset after it.
   */
  encodeInto(message: M, target: Buffer, offset: number): number;
  /** The message encoded into a new buffer. Same checks as `encodedLength`. */
  encode(message: M): Buffer;
}
