/**
 * A connection's receive side: bytes read are decoded into messages, which go to a waiting
 * `next()` of a `for await` loop, to the `each()` listener, or wait in a queue while the socket
 * is paused (backpressure). A burst is handed out a batch per turn of the event loop.
 */

import { explain } from "@socket-lab/core";
import { DONE, deferred, invalidArgType } from "@socket-lab/core/internal";
import { account } from "./connection-budget.js";
import { end, fail } from "./connection-lifecycle.js";
import type { ConnectionState } from "./connection-state.js";
import { stopFrameTimer, watchFrame } from "./frame-watch.js";
import { noop } from "./promises.js";
import { flush } from "./send-buffer.js";

/**
 * A loop's iterator: one small object whose methods every loop shares, rather than two
 * closures per loop. `return()` (a `break`) leaves the connection open.
 */
export class Messages<M> implements AsyncIterator<M> {
  readonly #state: ConnectionState<M>;

  constructor(state: ConnectionState<M>) {
    this.#state = state;
  }

  next(): Promise<IteratorResult<M>> {
    return next(this.#state);
  }

  return(): Promise<IteratorResult<M>> {
    return Promise.resolve(DONE);
  }
}

/** Whether a listener returned a promise (or any thenable) to wait for. */
function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== undefined &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}

/** `connection.each()`. */
export function each<M>(s: ConnectionState<M>, listener: (message: M) => unknown): Promise<void> {
  if (typeof listener !== "function") {
    return Promise.reject(invalidArgType("listener argument", "of type function", listener));
  }
  if (s.listener !== undefined || s.readers.length > 0) return readTwice();
  s.listener = listener;
  const listening = deferred<void>();
  s.listening = listening;
  feedListener(s);
  return listening.promise;
}

/** The next message for a `for await` loop. */
export function next<M>(s: ConnectionState<M>): Promise<IteratorResult<M>> {
  if (s.listener !== undefined) return readTwice();
  if (s.queue.length > 0) {
    // A burst of messages from one read is handed out a batch per turn of the event loop, so
    // other connections' reads and timers run between batches.
    if (++s.turnMessages > s.maxMessagesPerTurn) {
      s.turnMessages = 0;
      return new Promise(s.nextTurn);
    }
    const value = s.queue.shift() as M;
    if (s.queue.length === 0) resume(s);
    return Promise.resolve({ value, done: false });
  }
  if (s.readDone) {
    const error = s.readError;
    if (error !== undefined) {
      s.readError = undefined;
      return Promise.reject(error);
    }
    if (s.endWhenDrained) end(s).catch(noop);
    return Promise.resolve(DONE);
  }
  // The loop is about to wait for the peer: what it sent goes out now rather than at the end
  // of the tick, so a request or a reply is on the wire before anything else runs.
  if (s.unflushed > 0) flush(s);
  s.turnMessages = 0;
  return new Promise(s.wait);
}

function readTwice(): Promise<never> {
  return Promise.reject(
    new TypeError(
      "this connection is already read by a for await loop or each(); read it in one place at a time",
    ),
  );
}

/** Answers every waiting `next()`, or `each()`, once nothing more will arrive. */
export function settleReaders<M>(s: ConnectionState<M>): void {
  const listening = s.listener !== undefined;
  // A busy listener is settled once it has taken the queue.
  if (listening ? s.listenerBusy : s.readers.length === 0) return;
  const error = s.readError;
  s.readError = undefined;
  if (listening) {
    if (error === undefined) stopListening(s);
    else failListening(s, error);
  } else {
    for (let reader = s.readers.shift(); reader; reader = s.readers.shift()) {
      if (error === undefined) reader.resolve(DONE);
      else reader.reject(error);
    }
  }
  if (error === undefined && s.endWhenDrained) end(s).catch(noop);
}

function deliver<M>(s: ConnectionState<M>, messages: M[]): void {
  const count = messages.length;
  if (count === 0) return;
  s.stats.messagesReceived += count;
  let i = 0;
  if (s.listener === undefined) {
    for (let reader = s.readers.shift(); reader; reader = s.readers.shift()) {
      reader.resolve({ value: messages[i++] as M, done: false });
      if (i === count) return;
    }
  }
  for (; i < count; i++) s.queue.push(messages[i] as M);
  if (s.listener !== undefined) {
    feedListener(s);
    if (s.queue.length === 0) return;
  }
  if (!s.paused) {
    // The loop is slower than the network: stop reading until it has caught up, so the
    // kernel's buffers fill and the sender's send() waits (backpressure, bounded memory).
    s.paused = true;
    s.socket.pause();
  }
}

/**
 * Hands the queued messages to the listener, one by one, until it returns a promise or stops;
 * then flushes what it sent, and settles `each()` once nothing more will come.
 */
function feedListener<M>(s: ConnectionState<M>): void {
  let handed = 0;
  while (s.queue.length > 0 && s.listener !== undefined && !s.listenerBusy) {
    if (handed === s.maxMessagesPerTurn) {
      // The rest in a later turn, after other connections' reads; the socket stays paused.
      if (!s.feedScheduled) {
        s.feedScheduled = true;
        setImmediate(feedAgain, s);
      }
      break;
    }
    handed++;
    callListener(s, s.queue.shift() as M);
  }
  // What the listener sent goes out now, in one write, before the read that brought the
  // messages returns.
  if (s.unflushed > 0) flush(s);
  if (s.queue.length > 0) return; // the listener is busy or stopped: the rest waits
  resume(s);
  if (s.readDone) settleReaders(s);
}

function feedAgain<M>(s: ConnectionState<M>): void {
  s.feedScheduled = false;
  feedListener(s);
}

function callListener<M>(s: ConnectionState<M>, message: M): void {
  let result: unknown;
  try {
    result = (s.listener as (message: M) => unknown)(message);
  } catch (err) {
    failListening(s, err);
    return;
  }
  if (isPromiseLike(result)) {
    s.listenerBusy = true;
    // Promise.resolve() also makes a thenable whose then() throws reject, not throw here.
    // The callbacks are made here, not per connection: most listeners return nothing.
    Promise.resolve(result).then(
      () => {
        s.listenerBusy = false;
        feedListener(s);
      },
      (error: unknown) => failListening(s, error),
    );
  }
}

/** Ends `each()` well: what arrives from now on waits for the next reader. */
function stopListening<M>(s: ConnectionState<M>): void {
  const listening = s.listening;
  clearListener(s);
  listening?.resolve();
}

/** Ends `each()` with `error`. */
function failListening<M>(s: ConnectionState<M>, error: unknown): void {
  const listening = s.listening;
  clearListener(s);
  listening?.reject(error);
}

function clearListener<M>(s: ConnectionState<M>): void {
  s.listener = undefined;
  s.listenerBusy = false;
  s.listening = undefined;
}

function resume<M>(s: ConnectionState<M>): void {
  if (s.queuedBytes > 0 && s.queue.length === 0) {
    s.queuedBytes = 0;
    account(s);
  }
  if (s.paused) {
    s.paused = false;
    s.socket.resume();
    if (s.watchesFrames && !s.discard) {
      // Time we did not read because our own loop was behind is not the peer's: it starts over.
      s.messageStart = performance.now();
      watchFrame(s, false);
    }
  }
}

/**
 * Stops taking messages: incoming bytes are dropped from now on, and the loop ends once it has
 * taken the queue (`keepQueued`) or at once.
 */
export function stopReading<M>(s: ConnectionState<M>, keepQueued: boolean): void {
  s.discard = true;
  stopFrameTimer(s);
  if (!keepQueued) s.queue.clear();
  s.readDone = true;
  if (s.queue.length === 0) settleReaders(s);
  // Keep reading (and dropping) so that the peer's end arrives and the socket can close.
  resume(s);
}

/** The socket read `chunk`. */
export function onData<M>(s: ConnectionState<M>, chunk: Buffer): void {
  s.stats.bytesReceived += chunk.length;
  s.trace?.({ type: "recv", bytes: chunk.length, fd: s.fd });
  if (s.discard) return;
  const decoder = s.decoder;
  const heldBefore = decoder.bufferedBytes;
  let messages: M[];
  try {
    messages = decoder.push(chunk);
  } catch (err) {
    // A protocol error: reset, so the peer learns at once that its data was not taken.
    fail(s, explain(err), true);
    return;
  }
  deliver(s, messages);
  if (s.watchesFrames) watchFrame(s, messages.length > 0);
  if (s.guard !== undefined) {
    // The messages left queued are views of (or copies of) at most these bytes.
    if (s.queue.length > 0) {
      s.queuedBytes += heldBefore + chunk.length - decoder.bufferedBytes;
    }
    account(s);
  }
}

/** The peer shut down its sending side: read() returned 0. */
export function onEnd<M>(s: ConnectionState<M>): void {
  s.trace?.({ type: "recv", bytes: 0, fd: s.fd }); // read() = 0: the peer shut down
  stopFrameTimer(s); // the peer sends no more: no message of it can still be late
  if (!s.discard) {
    try {
      deliver(s, s.decoder.end());
    } catch (err) {
      fail(s, explain(err), false);
      return;
    }
  }
  s.readDone = true;
  if (s.queue.length === 0) settleReaders(s);
}
