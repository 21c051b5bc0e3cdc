/**
 * Framing turns a byte stream, which has no message boundaries, into messages and back.
 * Decoders are pure and incremental: no socket inside, fed chunks as they arrive.
 */

/**
 * An incremental decoder for one stream: feed it the bytes in any split, get whole messages back
 * in order. Made by `Framing.createDecoder()`.
 *
 * @example
 * const decoder = lines().createDecoder();
 * decoder.push(Buffer.from("one\ntw"));
 * //=> ["one"]
 * decoder.push(Buffer.from("o\n"));
 * //=> ["two"]
 * decoder.end();
 * //=> []
 */
export interface FrameDecoder<M> {
  /**
   * Appends a chunk and returns every message it completes, in order (often none).
   *
   * The decoder may keep views of `chunk` (it copies only small pieces) until the messages
   * they belong to are complete, and length frames may be views of it: do not modify a chunk
   * after pushing it (the chunks of a socket's 'data' events are never reused, so they are safe).
   * @throws {SocketError} `ERR_FRAME_TOO_LARGE` as soon as a header or a line shows a frame
   *   over the limit, before buffering it; `ERR_INVALID_UTF8` for a bad line when told to reject.
   *   Messages the same chunk completed before the bad one are not returned. After a throw the
   *   decoder is spent: every later `push` or `end` throws the same error.
   */
  push(chunk: Uint8Array): M[];
  /**
   * Marks the end of the stream and returns what it completes: for lines, a last line without
   * its `\n` (nothing when no bytes follow the last `\n`); for length frames, nothing. Leaves
   * the decoder empty.
   * @throws {SocketError} `ERR_FRAME_TRUNCATED` when a length frame was cut short;
   *   `ERR_FRAME_TOO_LARGE` or `ERR_INVALID_UTF8` for a bad last line.
   */
  end(): M[];
  /**
   * Bytes held while waiting for the rest of a message; 0 between messages. Bounded whatever
   * the peer sends: at most `maxBytes` + 1 for lines (a `\r` waiting for its `\n`), and less
   * than `maxBytes` (or the first 3 bytes of a header) for length frames.
   */
  readonly bufferedBytes: number;
  /**
   * True while a message has begun and is not yet complete: bytes of it are held, or a length
   * header has arrived whose payload has not (then `bufferedBytes` is 0). A server's frame
   * deadline runs while it is true. Optional for decoders made elsewhere, which are taken to be
   * inside a message while `bufferedBytes` is over 0.
   */
  readonly incomplete?: boolean;
}

/**
 * A wire format: how messages of type `M` are written to and read from a byte stream.
 * `lines()` and `lengthPrefixed()` make one; a connection uses one for both directions.
 *
 * @example
 * const framing = lengthPrefixed();
 * const messages = [Buffer.from("a"), Buffer.from("bc")];
 * let size = 0;
 * for (const m of messages) size += framing.encodedLength(m);
 * const packet = Buffer.allocUnsafe(size);
 * let offset = 0;
 * for (const m of messages) offset = framing.encodeInto(m, packet, offset);
 * packet.toString("hex");
 * //=> "0000000161000000026263"
 */
export interface Framing<M> {
  /** `"lines"` or `"length"`: which framing this is, for logs and traces. */
  readonly name: string;
  /** The largest message payload in bytes this framing accepts, on both send and receive. */
  readonly maxBytes: number;
  /** A fresh decoder for one connection. */
  createDecoder(): FrameDecoder<M>;
  /**
   * Bytes `message` takes on the wire, header or terminator included.
   * @throws {SocketError} `ERR_FRAME_TOO_LARGE` over `maxBytes`;
   *   {TypeError} for a message of the wrong type, or a line that contains `\n` or ends
   *   with `\r`.
   */
  encodedLength(message: M): number;
  /**
   * Writes the encoded message into `target` at `offset` and returns the offset after it.
   * Made for packing many messages into one buffer, so it does not repeat the checks: call
   * `encodedLength(message)` first and make room for that many bytes.
   */
  encodeInto(message: M, target: Buffer, offset: number): number;
  /**
   * Present when a message is sent as a header followed by the message's own bytes, unchanged
   * (`lengthPrefixed()`, whose message is a Uint8Array, and `lengthPrefixedPieces()`, whose
   * message is an array of them, sent one after the other; `lines()` has none, it encodes
   * text): writes only the header into `target` at `offset` and returns the offset after it.
   * A connection uses it to send a message bigger than its high-water mark without copying it.
   */
  encodeHeader?(message: M, target: Buffer, offset: number): number;
  /**
   * The message encoded into a new buffer of exactly `encodedLength(message)` bytes.
   * @throws the same errors as `encodedLength`.
   */
  encode(message: M): Buffer;
}
