/**
 * Sizes and counts that both transports share, with where each number comes from.
 */

/** Largest UDP payload over IPv4: 65,535 (IP total length) − 20 (IP header) − 8 (UDP header). */
export const UDP_MAX_PAYLOAD_IPV4 = 65_507;

/** Largest UDP payload over IPv6: 65,535 (payload length) − 8 (UDP header); no IP header counted. */
export const UDP_MAX_PAYLOAD_IPV6 = 65_527;

/** UDP payload that fits an Ethernet MTU of 1,500 unfragmented over IPv4: 1,500 − 20 − 8. */
export const UDP_SAFE_PAYLOAD_IPV4 = 1_472;

/** UDP payload that fits IPv6's minimum MTU of 1,280 unfragmented: 1,280 − 40 − 8. */
export const UDP_SAFE_PAYLOAD_IPV6 = 1_232;

/**
 * Default largest length-prefixed frame, in bytes: 8 MiB, the same as tokio-util's
 * LengthDelimitedCodec, so a peer using either accepts the same frames.
 */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** Default longest line, in bytes of UTF-8, not counting the `\n` or `\r\n`: 64 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** The listen backlog the classic tutorial uses: `listen(sockfd, 5)`. The echo apps default to it. */
export const TUTORIAL_BACKLOG = 5;

/**
 * Default listen backlog for library servers: 511, Node's own default. The kernel caps it at
 * `net.core.somaxconn`. A server that may see bursts of connects wants more than the tutorial's 5.
 */
export const DEFAULT_BACKLOG = 511;

/** Default most connections a server holds at once; one more is closed at once. */
export const DEFAULT_MAX_CONNECTIONS = 1_024;

/** Default time a connection may stay silent before the server closes it: 2 minutes, in ms. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/**
 * Default time `close()` lets a connection (or a server's connections) flush and finish its
 * close (tcp: the peer's end; reliable-udp: the close handshake) before destroying it, in ms.
 * @example
 * DEFAULT_CLOSE_TIMEOUT_MS //=> 5000
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** Default time a client waits for a connection to be accepted, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Longest unix socket path in bytes: `sun_path` is 108 bytes on Linux (104 elsewhere), less the NUL. */
export const MAX_UNIX_PATH_BYTES = process.platform === "linux" ? 107 : 103;
