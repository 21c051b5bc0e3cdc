/**
 * HTTP/1.1 as a framing for @socket-lab/tcp: a request is lines over the stream — a request
 * line, header lines, an empty line — then as many bytes of body as its Content-Length says.
 * The decoder is pure (no socket inside): push chunks, get whole requests. A malformed request
 * becomes an {@link HttpRequestError} carrying the status to answer, never a throw, so the server
 * can answer it before it closes the connection.
 */

import { checkInteger } from "@socket-lab/core/internal";
import type { FrameDecoder, Framing } from "@socket-lab/tcp";

/** A whole request, as the decoder hands it over. */
export interface HttpRequest {
  readonly kind: "request";
  /** `GET`, `HEAD`, … as sent (methods are case-sensitive). */
  readonly method: string;
  /** The request target as sent: `/`, `/index.html?x=1`, or an absolute URL. */
  readonly target: string;
  /** The version of the request line; `HTTP/1.2` and up are read as `HTTP/1.1`. */
  readonly version: "HTTP/1.0" | "HTTP/1.1";
  /** Header lines in order, names lower-cased, values without surrounding spaces. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /** Whether the client wants the connection kept open after the response. */
  readonly keepAlive: boolean;
  /** The body: exactly Content-Length bytes (empty without the header). */
  readonly body: Buffer;
  /** Bytes of the request line and headers on the wire, line endings included. */
  readonly headBytes: number;
}

/** Status codes the decoder answers malformed requests with. */
export type RequestErrorStatus = 400 | 413 | 414 | 431 | 501 | 505;

/** A request the decoder refused; nothing after it on the stream is read. */
export interface HttpRequestError {
  readonly kind: "error";
  readonly status: RequestErrorStatus;
  /** One sentence for the response body and the log. */
  readonly reason: string;
}

/** A response as the server writes it: a head of lines (ending in an empty line), then a body. */
export interface HttpResponse {
  readonly kind: "response";
  /** Status line and header lines, each ending in `\r\n`, then `\r\n`; Latin-1. */
  readonly head: string;
  /** @default empty */
  readonly body?: Uint8Array;
}

/** What travels on an HTTP connection: requests come in, responses go out. */
export type HttpMessage = HttpRequest | HttpRequestError | HttpResponse;

/** Limits on what a client may make the server read and hold per request. */
export interface HttpLimits {
  /** Most bytes of request line and headers, line endings included. @default WEB_MAX_HEAD_BYTES (8,192) */
  maxHeadBytes?: number;
  /** Most header lines in one request. @default WEB_MAX_HEADERS (100) */
  maxHeaders?: number;
  /** Largest Content-Length accepted, in bytes. @default WEB_MAX_BODY_BYTES (65,536) */
  maxBodyBytes?: number;
}

/** Default most bytes of a request head: 8 KiB, the line limit of Apache and nginx. */
export const WEB_MAX_HEAD_BYTES = 8 * 1024;
/** Default most header lines per request. */
export const WEB_MAX_HEADERS = 100;
/** Default largest request body: 64 KiB (the page takes none; a GET may carry one). */
export const WEB_MAX_BODY_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const REQUEST_LINE = new RegExp(`^(${TOKEN}) ([\\x21-\\x7e]+) HTTP/(\\d)\\.(\\d)$`);
const HEADER_LINE = new RegExp(`^(${TOKEN}):[ \\t]*(.*?)[ \\t]*$`);
/** True when a field value holds a control character other than HTAB (0x00–0x1f, 0x7f). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}
const EMPTY = Buffer.alloc(0);

/**
 * The HTTP framing: its decoder reads requests, its encoder writes {@link HttpResponse}s.
 * `maxBytes` is the head limit.
 * @throws {RangeError} for a limit that is not a positive integer.
 * @example
 * const decoder = http().createDecoder();
 * decoder.push(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))[0]?.kind //=> "request"
 */
export function http(limits: HttpLimits = {}): Framing<HttpMessage> {
  const settings = {
    maxHeadBytes: checkInteger("maxHeadBytes", limits.maxHeadBytes ?? WEB_MAX_HEAD_BYTES, 1),
    maxHeaders: checkInteger("maxHeaders", limits.maxHeaders ?? WEB_MAX_HEADERS, 1),
    maxBodyBytes: checkInteger("maxBodyBytes", limits.maxBodyBytes ?? WEB_MAX_BODY_BYTES, 0),
  };
  const encodedLength = (message: HttpMessage): number => {
    if (message?.kind !== "response") {
      throw new TypeError("an HTTP server sends responses: { kind: 'response', head, body }");
    }
    return Buffer.byteLength(message.head, "latin1") + (message.body?.byteLength ?? 0);
  };
  const encodeInto = (message: HttpMessage, target: Buffer, offset: number): number => {
    const { head, body } = message as HttpResponse;
    let end = offset + target.write(head, offset, "latin1");
    if (body !== undefined) {
      target.set(body, end);
      end += body.byteLength;
    }
    return end;
  };
  return {
    name: "http",
    maxBytes: settings.maxHeadBytes,
    createDecoder: () => new RequestDecoder(settings),
    encodedLength,
    encodeInto,
    encode(message) {
      const buffer = Buffer.allocUnsafe(encodedLength(message));
      encodeInto(message, buffer, 0);
      return buffer;
    },
  };
}

/** Thrown inside the decoder only, turned into an {@link HttpRequestError} at once. */
class Refusal {
  constructor(
    readonly status: RequestErrorStatus,
    readonly reason: string,
  ) {}
}

class RequestDecoder implements FrameDecoder<HttpMessage> {
  readonly #limits: Required<HttpLimits>;
  /** Bytes of an unfinished line, or of the body read so far. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes of the complete lines of the current head. */
  #headBytes = 0;
  #requestLine: RegExpExecArray | undefined;
  #headers: [string, string][] = [];
  /** What the head said, while its body is read. */
  #request: Pick<HttpRequest, "version" | "keepAlive"> | undefined;
  /** Body bytes still to come; -1 while reading the head. */
  #bodyLeft = -1;
  #failed = false;

  constructor(limits: Required<HttpLimits>) {
    this.#limits = limits;
  }

  get bufferedBytes(): number {
    return this.#headBytes + this.#pendingBytes;
  }

  push(chunk: Uint8Array): HttpMessage[] {
    const messages: HttpMessage[] = [];
    if (this.#failed) return messages; // a refused request: the rest of the stream is not read
    const buffer = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      for (let at = 0; at < buffer.length; ) {
        at =
          this.#bodyLeft >= 0
            ? this.#readBody(buffer, at, messages)
            : this.#readLine(buffer, at, messages);
      }
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      this.#failed = true;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#headBytes = 0;
      messages.push({ kind: "error", status: error.status, reason: error.reason });
    }
    return messages;
  }

  /** The stream ended: a request cut short is dropped (there is no one to answer). */
  end(): HttpMessage[] {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#headBytes = 0;
    return [];
  }

  /** Reads up to the next `\n` (or holds what there is); returns where it stopped. */
  #readLine(buffer: Buffer, at: number, messages: HttpMessage[]): number {
    const lf = buffer.indexOf(LF, at);
    const held = this.#headBytes + this.#pendingBytes;
    const { maxHeadBytes } = this.#limits;
    if (lf === -1) {
      // The line's `\n` is still to come, so the head will be at least one byte longer.
      if (held + buffer.length - at >= maxHeadBytes) this.#tooLarge();
      this.#hold(at === 0 ? buffer : buffer.subarray(at));
      return buffer.length;
    }
    if (held + lf + 1 - at > maxHeadBytes) this.#tooLarge();
    let line = buffer.subarray(at, lf);
    if (this.#pendingBytes > 0) {
      this.#pending.push(line);
      line = Buffer.concat(this.#pending, this.#pendingBytes + line.length);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    this.#headBytes += line.length + 1;
    if (line[line.length - 1] !== CR) {
      throw new Refusal(400, "a line ends with a bare \\n; HTTP lines end with \\r\\n");
    }
    this.#onLine(line.toString("latin1", 0, line.length - 1), messages);
    return lf + 1;
  }

  #onLine(line: string, messages: HttpMessage[]): void {
    if (this.#requestLine === undefined) {
      if (line === "") return; // an empty line before a request line is ignored (RFC 9112 §2.2)
      const parts = REQUEST_LINE.exec(line);
      if (parts === null) throw new Refusal(400, "the request line is not METHOD TARGET HTTP/1.x");
      if (parts[3] !== "1")
        throw new Refusal(
          505,
          `HTTP/${parts[3]}.${parts[4]} is not supported; this server speaks HTTP/1.1`,
        );
      this.#requestLine = parts;
    } else if (line === "") {
      this.#endOfHead(messages);
    } else {
      if (line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) {
        throw new Refusal(400, "a header line starts with a space (obsolete line folding)");
      }
      if (this.#headers.length >= this.#limits.maxHeaders) {
        throw new Refusal(431, `more than ${this.#limits.maxHeaders} header lines`);
      }
      const field = HEADER_LINE.exec(line);
      if (field === null) throw new Refusal(400, "a header line is not NAME: VALUE");
      const value = field[2] as string;
      if (hasControl(value)) throw new Refusal(400, "a header value holds a control character");
      this.#headers.push([(field[1] as string).toLowerCase(), value]);
    }
  }

  /** The empty line after the headers: decide how long the body is. */
  #endOfHead(messages: HttpMessage[]): void {
    const version = this.#requestLine?.[4] === "0" ? "HTTP/1.0" : "HTTP/1.1";
    let hosts = 0;
    const lengths: string[] = [];
    let connection = "";
    for (const [name, value] of this.#headers) {
      if (name === "host") hosts++;
      else if (name === "content-length") lengths.push(value);
      else if (name === "connection") connection += `,${value.toLowerCase()}`;
      else if (name === "transfer-encoding") {
        // Guessing where a body ends that two parties read differently is request smuggling.
        throw new Refusal(501, "Transfer-Encoding is not supported; send a Content-Length");
      }
    }
    if (hosts > 1 || (hosts === 0 && version === "HTTP/1.1")) {
      throw new Refusal(400, "an HTTP/1.1 request needs exactly one Host header");
    }
    if (lengths.length > 1) throw new Refusal(400, "more than one Content-Length header");
    const length = lengths[0] ?? "0";
    if (!/^\d+$/.test(length)) throw new Refusal(400, "Content-Length is not a number");
    if (length.length > 15 || Number(length) > this.#limits.maxBodyBytes) {
      throw new Refusal(413, `the body is over ${this.#limits.maxBodyBytes} bytes`);
    }
    const tokens = connection.split(",").map((token) => token.trim());
    const keepAlive =
      version === "HTTP/1.1" ? !tokens.includes("close") : tokens.includes("keep-alive");
    this.#bodyLeft = Number(length);
    this.#request = { version, keepAlive };
    if (this.#bodyLeft === 0) messages.push(this.#finish(EMPTY));
  }

  #readBody(buffer: Buffer, at: number, messages: HttpMessage[]): number {
    const take = Math.min(this.#bodyLeft, buffer.length - at);
    const piece = buffer.subarray(at, at + take);
    this.#bodyLeft -= take;
    if (this.#bodyLeft > 0) {
      this.#hold(piece);
    } else {
      const body = this.#pendingBytes === 0 ? piece : Buffer.concat([...this.#pending, piece]);
      this.#pending = [];
      this.#pendingBytes = 0;
      messages.push(this.#finish(body));
    }
    return at + take;
  }

  #finish(body: Buffer): HttpRequest {
    const parts = this.#requestLine as RegExpExecArray;
    const { version, keepAlive } = this.#request as Pick<HttpRequest, "version" | "keepAlive">;
    const request: HttpRequest = {
      kind: "request",
      method: parts[1] as string,
      target: parts[2] as string,
      version,
      headers: this.#headers,
      keepAlive,
      body,
      headBytes: this.#headBytes,
    };
    this.#requestLine = undefined;
    this.#request = undefined;
    this.#headers = [];
    this.#headBytes = 0;
    this.#bodyLeft = -1;
    return request;
  }

  #hold(piece: Buffer): void {
    this.#pending.push(piece);
    this.#pendingBytes += piece.length;
  }

  #tooLarge(): never {
    const { maxHeadBytes } = this.#limits;
    if (this.#requestLine === undefined) {
      throw new Refusal(414, `the request line is over ${maxHeadBytes} bytes`);
    }
    throw new Refusal(431, `the request head is over ${maxHeadBytes} bytes`);
  }
}
