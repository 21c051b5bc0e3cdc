/**
 * The sender's half of selective repeat: the segments sent and not yet acknowledged, what the
 * peer's cumulative ACK and SACK ranges say about them, and which of them are lost. Sequence
 * numbers here are plain counts from 0 (the connection converts to and from the wire's u32).
 * Pure bookkeeping: no timer, no socket.
 *
 * Loss detection (fast retransmit): every transmission gets a serial number. A segment not yet
 * acknowledged counts as lost once a segment transmitted {@link DUP_THRESHOLD} or more
 * transmissions after it has been acknowledged (cumulatively or by a SACK range). On a first
 * transmission that is the "3 duplicate ACKs" of RFC 5681 counted through SACK, as RFC 6675
 * does; on a retransmission it counts only what was sent after the retransmission, so a lost
 * retransmission is found again without a timeout. One datagram overtaken by the next (the
 * reordering netsim makes) is not taken for lost.
 *
 * With fewer than three segments after a gap (a small window, the end of a burst) that rule
 * never fires. So, as RACK (RFC 8985) does, a segment also counts as lost when any segment
 * sent after it was acknowledged and it has itself gone unacknowledged for `reorderMs` since
 * it was sent: the caller passes 0 until {@link SendWindow.reordered} (a loss is then found
 * on the first ACK that shows it), then about one RTT and a quarter.
 */

/**
 * Transmissions after a segment that must be acknowledged before it counts as lost.
 * @example
 * DUP_THRESHOLD //=> 3
 */
export const DUP_THRESHOLD = 3;

/** One segment sent and not yet cumulatively acknowledged. */
export interface OutstandingSegment {
  /** Its number, counted from 0. */
  readonly seq: number;
  /** The message (empty for FIN). Dropped once SACKed: the peer holds it. */
  payload: Buffer;
  /** The FIN, which takes a number after the last message. */
  readonly fin: boolean;
  /** Times sent so far. */
  transmissions: number;
  /** Serial of its latest transmission. */
  serial: number;
  /** Its latest transmission's timestamp (µs modulo 2³², as on the wire). */
  sentTs: number;
  /** When its latest transmission left, ms on `performance.now()`'s clock. */
  sentAt: number;
  /** The peer holds it (a SACK range covered it). */
  sacked: boolean;
  /** Marked lost and waiting to be sent again: by the ACKs ("ack") or by a timeout ("rto"). */
  lost: "ack" | "rto" | undefined;
}

/** What one acknowledgement did. */
export interface AckOutcome {
  /** `false`: it acknowledges numbers never sent; nothing was changed. */
  readonly valid: boolean;
  /** Segments newly acknowledged by the cumulative ACK. */
  readonly acked: number;
  /** Segments newly covered by SACK ranges. */
  readonly sacked: number;
  /** SACK ranges refused: empty, reversed, or reaching past what was sent. */
  readonly invalidRanges: number;
  /** Segments newly marked lost by this ACK. */
  readonly lost: number;
  /**
   * When (ms) a segment the ACKs have overtaken will have waited `reorderMs`: call
   * {@link SendWindow.detectLost} then. `Infinity` when none waits.
   */
  readonly recheckAt: number;
  /** The lowest segment the cumulative ACK newly acknowledged (for RTT and spurious checks). */
  readonly first: OutstandingSegment | undefined;
}

/** The sender's window. */
export class SendWindow {
  /** Oldest number not yet cumulatively acknowledged. */
  #una = 0;
  /** Next number to give a new segment. */
  #next = 0;
  readonly #segments = new Map<number, OutstandingSegment>();
  /** Numbers marked lost, in the order they were marked (oldest first); stale entries skipped. */
  #lostQueue: number[] = [];
  #serial = 0;
  /** Highest serial of a segment the peer acknowledged. */
  #deliveredSerial = 0;
  /** Segments sent, not acknowledged, not SACKed, not marked lost: RFC 6675's "pipe". */
  #pipe = 0;
  /** Whether a segment ever arrived after one sent later than it: the path reorders. */
  #reordered = false;

  /** Oldest number not yet acknowledged. */
  get una(): number {
    return this.#una;
  }

  /** The number the next new segment gets. */
  get next(): number {
    return this.#next;
  }

  /** Segments sent and not cumulatively acknowledged (SACKed ones included). */
  get size(): number {
    return this.#next - this.#una;
  }

  /**
   * Whether the path was seen to reorder: a segment sent once was acknowledged after one sent
   * later than it. Until then a gap behind an acknowledged segment is a loss at once (RFC 8985
   * 6.2: RACK's reordering window starts at 0); after, the caller passes a `reorderMs`.
   */
  get reordered(): boolean {
    return this.#reordered;
  }

  /** A retransmission turned out needless (its ACK echoes the first copy): the path reorders. */
  markReordered(): void {
    this.#reordered = true;
  }

  /** Segments believed to be in the network. */
  get pipe(): number {
    return this.#pipe;
  }

  /** The segment with number `seq`, if outstanding. */
  get(seq: number): OutstandingSegment | undefined {
    return this.#segments.get(seq);
  }

  /** Numbers a new segment; call {@link transmitted} when it is sent. */
  add(payload: Buffer, fin = false): OutstandingSegment {
    const segment: OutstandingSegment = {
      seq: this.#next++,
      payload,
      fin,
      transmissions: 0,
      serial: 0,
      sentTs: 0,
      sentAt: 0,
      sacked: false,
      lost: undefined,
    };
    this.#segments.set(segment.seq, segment);
    return segment;
  }

  /**
   * `segment` was just sent (again), with timestamp `ts`, at `now` (ms). `samePacket`: it
   * went in the same datagram as the segment transmitted just before it, so it shares that
   * one's serial: the loss threshold counts datagrams, as TCP's counts packets.
   */
  transmitted(
    segment: OutstandingSegment,
    ts: number,
    now = performance.now(),
    samePacket = false,
  ): void {
    segment.sentAt = now;
    if (segment.transmissions === 0 || segment.lost !== undefined) this.#pipe++;
    segment.lost = undefined;
    segment.transmissions++;
    segment.serial = samePacket && this.#serial > 0 ? this.#serial : ++this.#serial;
    segment.sentTs = ts;
  }

  /** The oldest segment marked lost and not yet sent again, if any. */
  nextLost(): OutstandingSegment | undefined {
    while (this.#lostQueue.length > 0) {
      const seq = this.#lostQueue[0] as number;
      const segment = this.#segments.get(seq);
      if (segment?.lost !== undefined) return segment;
      this.#lostQueue.shift();
    }
    return undefined;
  }

  /**
   * Applies an acknowledgement: `ack` is the next number the peer expects, `ranges` the SACK
   * ranges (numbers counted like `ack`). An `ack` past what was sent changes nothing. Ranges
   * below `una` are old news and ignored; ranges that are empty, reversed or reach past what
   * was sent are refused and counted. `minRttMs`: the least RTT seen; a segment sent more
   * than once is evidence of loss only if acknowledged at least that long after its latest
   * copy left (sooner, the ACK must be for an earlier copy: RACK's rule, as Linux applies it).
   */
  acknowledge(
    ack: number,
    ranges: readonly { start: number; end: number }[],
    now = performance.now(),
    reorderMs = Number.POSITIVE_INFINITY,
    minRttMs = Number.POSITIVE_INFINITY,
  ): AckOutcome {
    if (ack > this.#next) {
      return {
        valid: false,
        acked: 0,
        sacked: 0,
        invalidRanges: 0,
        lost: 0,
        recheckAt: Number.POSITIVE_INFINITY,
        first: undefined,
      };
    }
    let acked = 0;
    let first: OutstandingSegment | undefined;
    for (let seq = this.#una; seq < ack; seq++) {
      const segment = this.#segments.get(seq) as OutstandingSegment;
      this.#segments.delete(seq);
      first ??= segment;
      if (!segment.sacked) {
        acked++;
        if (segment.lost === undefined) this.#pipe--;
        this.#delivered(segment, now - minRttMs);
      }
    }
    if (ack > this.#una) this.#una = ack;
    let sacked = 0;
    let invalidRanges = 0;
    // Lowest first, the order they were sent in: taken in the order a SACK lists them (most
    // recent first), an earlier range would look like reordering.
    for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
      if (range.end <= range.start || range.end > this.#next) {
        invalidRanges++;
        continue;
      }
      for (let seq = Math.max(range.start, this.#una); seq < range.end; seq++) {
        const segment = this.#segments.get(seq) as OutstandingSegment;
        if (segment.sacked) continue;
        segment.sacked = true;
        segment.payload = EMPTY;
        if (segment.lost === undefined) this.#pipe--;
        segment.lost = undefined;
        sacked++;
        this.#delivered(segment, now - minRttMs);
      }
    }
    const { lost, recheckAt } = this.detectLost(now, reorderMs);
    return { valid: true, acked, sacked, invalidRanges, lost, recheckAt, first };
  }

  /**
   * A retransmission timeout: every outstanding segment the peer does not hold is lost.
   * @returns how many were marked.
   */
  timeout(): number {
    let marked = 0;
    this.#lostQueue = [];
    for (let seq = this.#una; seq < this.#next; seq++) {
      const segment = this.#segments.get(seq) as OutstandingSegment;
      if (segment.sacked) continue;
      if (segment.lost === undefined) this.#pipe--;
      segment.lost = "rto";
      this.#lostQueue.push(seq);
      marked++;
    }
    return marked;
  }

  /** `segment` reached the peer; `sentBy`: a later copy sent after this time may not count. */
  #delivered(segment: OutstandingSegment, sentBy: number): void {
    // Reordering: sent once and acknowledged after one sent later; or sent again, and
    // acknowledged sooner than the least RTT after the copy (so the first copy arrived late).
    if (
      segment.transmissions === 1
        ? segment.serial < this.#deliveredSerial
        : Number.isFinite(sentBy) && segment.sentAt > sentBy
    ) {
      this.#reordered = true;
    }
    // Karn's rule again: for a segment sent more than once the ACK may be for an early copy,
    // and taking the latest copy's serial would call everything sent before it lost: each
    // such needless retransmission would then do the same, a storm. A latest copy sent at
    // least one minimum RTT ago may have been the one that arrived: the tail-loss probe's
    // copy of the last segment then reveals the holes before it without waiting for the RTO.
    const unambiguous = segment.transmissions === 1 || segment.sentAt <= sentBy;
    if (unambiguous && segment.serial > this.#deliveredSerial) {
      this.#deliveredSerial = segment.serial;
    }
  }

  /**
   * Marks lost the segments sent before one the peer now holds: {@link DUP_THRESHOLD}
   * transmissions before it, or at least `reorderMs` ago.
   * @returns how many were marked, and when to look again for those still within `reorderMs`.
   */
  detectLost(
    now: number,
    reorderMs = Number.POSITIVE_INFINITY,
  ): { lost: number; recheckAt: number } {
    let lost = 0;
    let recheckAt = Number.POSITIVE_INFINITY;
    const delivered = this.#deliveredSerial;
    const limit = delivered - DUP_THRESHOLD;
    for (let seq = this.#una; seq < this.#next; seq++) {
      const segment = this.#segments.get(seq) as OutstandingSegment;
      if (segment.sacked || segment.lost !== undefined) continue;
      if (segment.serial > delivered) {
        // Every later segment sent for the first time was sent after this one: no evidence.
        if (segment.transmissions === 1) break;
        continue;
      }
      if (segment.serial > limit && now < segment.sentAt + reorderMs) {
        recheckAt = Math.min(recheckAt, segment.sentAt + reorderMs);
        continue;
      }
      segment.lost = "ack";
      this.#pipe--;
      this.#lostQueue.push(seq);
      lost++;
    }
    return { lost, recheckAt };
  }

  /** The highest-numbered segment the peer does not hold: a tail-loss probe sends it again. */
  last(): OutstandingSegment | undefined {
    for (let seq = this.#next - 1; seq >= this.#una; seq--) {
      const segment = this.#segments.get(seq) as OutstandingSegment;
      if (!segment.sacked) return segment;
    }
    return undefined;
  }
}

const EMPTY = Buffer.alloc(0);
