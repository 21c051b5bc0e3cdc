/**
 * Answers to requests: which status each request gets (one page, GET and HEAD), and the
 * response's lines — a status line, header lines, an empty line — then the body.
 */

import type { HttpRequest, HttpRequestError, HttpResponse } from "./http-framing.js";

/** The paths that serve the page. */
const PAGE_PATHS = new Set(["/", "/index.html"]);
const ALLOWED = "GET, HEAD";

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

/** A response and whether the connection stays open after it. */
export interface Answer {
  readonly response: HttpResponse;
  readonly status: number;
  readonly keepAlive: boolean;
}

/**
 * The answer to one request: the page (made by `page()` only when it is served) for GET or
 * HEAD of `/`, 404 for another path, 405 for another method.
 * @example
 * import { http, type HttpRequest } from "./http-framing.js";
 * const [message] = http().createDecoder().push(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * answer(message as HttpRequest, () => "<p>hi</p>").status //=> 200
 */
export function answer(request: HttpRequest, page: () => string): Answer {
  const { method, keepAlive } = request;
  if (method !== "GET" && method !== "HEAD") {
    return plain(405, `${method} is not allowed here; use GET or HEAD.`, keepAlive, method, {
      Allow: ALLOWED,
    });
  }
  if (!PAGE_PATHS.has(pathOf(request.target))) {
    return plain(404, `Nothing lives at ${request.target}; the page is at /.`, keepAlive, method);
  }
  return respond(200, "text/html; charset=utf-8", page(), keepAlive, method);
}

/** The answer to a refused request; the connection closes after it. */
export function refuse(error: HttpRequestError): Answer {
  return plain(error.status, `${error.reason}.`, false, "GET");
}

/** The path of a target: `/a?b` → `/a`; an absolute URL's path, as RFC 9112 §3.2.2 asks. */
function pathOf(target: string): string {
  let path = target;
  const scheme = /^https?:\/\/[^/?#]*/i.exec(path);
  if (scheme !== null) path = path.slice(scheme[0].length) || "/";
  const query = path.search(/[?#]/);
  return query === -1 ? path : path.slice(0, query);
}

function plain(
  status: number,
  text: string,
  keepAlive: boolean,
  method: string,
  headers: Readonly<Record<string, string>> = {},
): Answer {
  return respond(
    status,
    "text/plain; charset=utf-8",
    `${status} ${REASONS[status]}: ${text}\n`,
    keepAlive,
    method,
    headers,
  );
}

function respond(
  status: number,
  type: string,
  text: string,
  keepAlive: boolean,
  method: string,
  headers: Readonly<Record<string, string>> = {},
): Answer {
  const body = Buffer.from(text, "utf8");
  let head = `HTTP/1.1 ${status} ${REASONS[status]}\r\nDate: ${httpDate()}\r\nServer: web-hello\r\n`;
  head += `Content-Type: ${type}\r\nContent-Length: ${body.length}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `Connection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`;
  // HEAD: the same head, no body (its Content-Length tells what GET would send).
  const response: HttpResponse =
    method === "HEAD" ? { kind: "response", head } : { kind: "response", head, body };
  return { response, status, keepAlive };
}

let dateSecond = -1;
let dateText = "";

/** `Sun, 06 Dec 2026 01:30:00 GMT`, made once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
