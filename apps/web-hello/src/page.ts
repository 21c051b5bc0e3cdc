/** The one page web-hello serves: the story of the connection that carried it. */

import { formatAddress } from "@socket-lab/core";
import type { Connection } from "@socket-lab/tcp";
import type { HttpRequest } from "./http-framing.js";

/** What the page tells about its connection. */
export interface ConnectionStory {
  /** The accepted socket's file descriptor; `undefined` where Node does not expose it. */
  readonly fd: number | undefined;
  /** The client's address and port, e.g. `127.0.0.1:51234`. */
  readonly client: string;
  /** The server's address and port. */
  readonly server: string;
  /** Requests this connection has carried, this one included. */
  readonly requests: number;
  /** `TLSv1.3, TLS_AES_256_GCM_SHA384` over HTTPS; `undefined` over plain TCP. */
  readonly tls: string | undefined;
}

/** The story of `connection`, which has carried `requests` requests. */
export function storyOf(connection: Connection<unknown>, requests: number): ConnectionStory {
  const { tls } = connection;
  return {
    fd: connection.fd,
    client: formatAddress(connection.remote),
    server: formatAddress(connection.local),
    requests,
    tls: tls && `${tls.protocol}, ${tls.cipher}`,
  };
}

/**
 * The page as HTML: the socket story, then the request's own lines as they arrived.
 * Everything the client sent is escaped.
 */
export function page(story: ConnectionStory, request: HttpRequest): string {
  const fd =
    story.fd === undefined
      ? "not exposed by Node on this platform"
      : `${story.fd} (the socket accept() returned for you)`;
  const lines = [
    `${request.method} ${request.target} ${request.version}`,
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
  ];
  const transport = story.tls === undefined ? "TCP" : `TLS (${story.tls}) over TCP`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello from web-hello</title></head>
<body>
<h1>Hello from web-hello</h1>
<p>This page came to you over a stream socket: ${escapeHtml(transport)}.</p>
<dl>
<dt>file descriptor</dt><dd id="fd">${escapeHtml(fd)}</dd>
<dt>you are</dt><dd id="client">${escapeHtml(story.client)}</dd>
<dt>I am</dt><dd id="server">${escapeHtml(story.server)}</dd>
<dt>requests on this connection</dt><dd id="requests">${story.requests}</dd>
</dl>
<p>Your request, as the lines that arrived (header names lower-cased; the empty line after them ended it):</p>
<pre id="request">${escapeHtml(lines.join("\n"))}</pre>
</body>
</html>
`;
}

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}
