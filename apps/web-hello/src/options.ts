/** Options, defaults, events and the handle of the web-hello server (the story is server.ts). */

import {
  DEFAULT_BACKLOG,
  DEFAULT_HOST,
  DEFAULT_MAX_CONNECTIONS,
  type Endpoint,
  formatEndpoint,
  type TraceListener,
} from "@socket-lab/core";
import type { HttpLimits, HttpRequest, HttpRequestError } from "./http-framing.js";

/** HTTP's port here; browsers use 80, which needs privileges (see the README). */
export const WEB_HTTP_PORT = 8080;
/** HTTPS's port here; browsers use 443. */
export const WEB_HTTPS_PORT = 8443;
/** Default time one request may take to arrive whole once it has begun, in ms: 10 s. */
export const WEB_REQUEST_TIMEOUT_MS = 10_000;
/** Default time a kept-alive connection may sit idle, in ms: 5 s, as node:http. */
export const WEB_KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** A certificate and its private key, PEM. */
export interface Certificate {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

/** Options of `startServer`. */
export interface SiteOptions {
  /** Address to bind; loopback, so nothing outside this machine can connect. @default "127.0.0.1" */
  host?: string;
  /** HTTP port; 0 lets the system choose. @default WEB_HTTP_PORT (8080) */
  port?: number;
  /** HTTPS port, used when `certificate` is given; 0 lets the system choose. @default WEB_HTTPS_PORT (8443) */
  httpsPort?: number;
  /** Serve HTTPS too, with this certificate. @default undefined (HTTP only) */
  certificate?: Certificate;
  /** Limits on each request's head and body. @default the framing's defaults (8 KiB head, 100 headers, 64 KiB body) */
  limits?: HttpLimits;
  /** Time one request may take to arrive whole, in ms; 0 = no limit. @default WEB_REQUEST_TIMEOUT_MS (10,000) */
  requestTimeoutMs?: number;
  /** Time a kept-alive connection may stay idle, in ms; 0 = no limit. @default WEB_KEEP_ALIVE_TIMEOUT_MS (5,000) */
  keepAliveTimeoutMs?: number;
  /** Connections open at once per port; one more is closed as soon as it is accepted. @default DEFAULT_MAX_CONNECTIONS (1024) */
  maxConnections?: number;
  /** Connections the kernel queues until accept() takes them. @default DEFAULT_BACKLOG (511) */
  backlog?: number;
  /** Receives every socket call. @default undefined */
  trace?: TraceListener;
  /** Receives what happens to clients, for printing. @default undefined */
  onEvent?: (event: WebEvent) => void;
}

/** What happens, in order. */
export type WebEvent =
  | { readonly type: "listening"; readonly url: string }
  | { readonly type: "connect"; readonly client: string; readonly fd: number | undefined }
  | {
      readonly type: "request";
      readonly client: string;
      readonly requests: number;
      readonly status: number;
      readonly method: string | undefined;
      readonly target: string | undefined;
      readonly reason: string | undefined;
    }
  | { readonly type: "error"; readonly client: string; readonly error: Error }
  | { readonly type: "server-error"; readonly error: Error }
  | { readonly type: "disconnect"; readonly client: string; readonly requests: number };

/** A running server. */
export interface WebServer {
  /** `http://127.0.0.1:8080`, then `https://127.0.0.1:8443` when serving HTTPS. */
  readonly urls: readonly string[];
  /** The bound ports, in the order of `urls`. */
  readonly ports: readonly number[];
  /** Stops accepting, lets responses in flight flush, closes every connection. */
  close(): Promise<void>;
}

/** One listening socket: where, and with which certificate (HTTPS). */
export interface Site {
  readonly endpoint: Endpoint;
  readonly tls: Certificate | undefined;
}

/** The options with their defaults applied, once. */
export function settingsOf(options: SiteOptions) {
  const host = options.host ?? DEFAULT_HOST;
  const sites: Site[] = [
    {
      endpoint: { transport: "tcp", host, port: options.port ?? WEB_HTTP_PORT },
      tls: undefined,
    },
  ];
  if (options.certificate !== undefined) {
    sites.push({
      endpoint: { transport: "tls", host, port: options.httpsPort ?? WEB_HTTPS_PORT },
      tls: options.certificate,
    });
  }
  return {
    sites,
    limits: options.limits ?? {},
    requestTimeoutMs: options.requestTimeoutMs ?? WEB_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? WEB_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    backlog: options.backlog ?? DEFAULT_BACKLOG,
    trace: options.trace,
    onEvent: options.onEvent ?? (() => {}),
  };
}

/** `tcp://127.0.0.1:8080` → `http://127.0.0.1:8080`; `tls://…` → `https://…`. */
export function urlOf(endpoint: Endpoint): string {
  return formatEndpoint(endpoint).replace(/^tcp:/, "http:").replace(/^tls:/, "https:");
}

/** The 'request' event of an answered request; a refused one has no request line we trust. */
export function requestEvent(
  client: string,
  requests: number,
  status: number,
  message: HttpRequest | HttpRequestError,
): WebEvent {
  const line =
    message.kind === "request"
      ? { method: message.method, target: message.target, reason: undefined }
      : { method: undefined, target: undefined, reason: message.reason };
  return { type: "request", client, requests, status, ...line };
}
