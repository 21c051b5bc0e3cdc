/**
 * The bytes of one message that arrived in pieces, kept until the message is complete.
 *
 * Pieces of `SMALL_PIECE` bytes or more are kept as views of the pushed chunk (no copy). Smaller
 * pieces are copied together into shared blocks: a peer that sends one byte per TCP segment
 * would otherwise make the decoder keep one Buffer object, many times its byte, per byte.
 */

/** Pieces smaller than this are copied into a block instead of kept as a view. */
const SMALL_PIECE = 512;

/**
 * Sizes of the blocks small pieces are copied into: each new block is as big as what is already
 * held, within these bounds, so short messages stay cheap and long ones need few blocks.
 */
const MIN_BLOCK_BYTES = 64;
const MAX_BLOCK_BYTES = 4096;

export class ChunkList {
  /** Views of pushed chunks and sealed segments of blocks, in order. */
  #parts: Buffer[] = [];
  #block: Buffer | undefined;
  /** Where the block's unsealed segment starts, and how far it is filled. */
  #segmentStart = 0;
  #blockUsed = 0;
  #length = 0;
  #lastByte: number | undefined;

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** The last byte held, if any. */
  get lastByte(): number | undefined {
    return this.#lastByte;
  }

  append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (piece.length >= SMALL_PIECE) {
      this.#seal();
      this.#parts.push(piece);
    } else {
      if (this.#block === undefined || this.#block.length - this.#blockUsed < piece.length) {
        this.#seal();
        const size = Math.max(MIN_BLOCK_BYTES, piece.length, this.#length);
        // Blocks under 4 KiB come from Buffer's shared pool, which makes them cheap to allocate.
        this.#block = Buffer.allocUnsafe(Math.min(size, MAX_BLOCK_BYTES));
        this.#segmentStart = 0;
        this.#blockUsed = 0;
      }
      piece.copy(this.#block, this.#blockUsed);
      this.#blockUsed += piece.length;
    }
    this.#length += piece.length;
    this.#lastByte = piece[piece.length - 1];
  }

  /** Everything held, then `tail`, copied into one new Buffer; leaves the list empty. */
  take(tail: Buffer): Buffer {
    this.#seal();
    this.#parts.push(tail);
    const bytes = Buffer.concat(this.#parts, this.#length + tail.length);
    this.clear();
    return bytes;
  }

  /** Everything held, then `tail`, as the pieces they are (none empty); leaves the list empty. */
  takePieces(tail: Buffer): Buffer[] {
    this.#seal();
    const pieces = this.#parts;
    if (tail.length > 0) pieces.push(tail);
    this.clear();
    return pieces;
  }

  /** Drops everything held. */
  clear(): void {
    this.#parts = [];
    this.#block = undefined;
    this.#segmentStart = 0;
    this.#blockUsed = 0;
    this.#length = 0;
    this.#lastByte = undefined;
  }

  /** Moves the block's filled segment into the parts, keeping the rest of the block for more. */
  #seal(): void {
    if (this.#block === undefined || this.#blockUsed === this.#segmentStart) return;
    this.#parts.push(this.#block.subarray(this.#segmentStart, this.#blockUsed));
    this.#segmentStart = this.#blockUsed;
  }
}
