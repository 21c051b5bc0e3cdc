/** What netsim-relay does when a flag is absent: each default, written once for run and --help. */

/** `--listen`: 0 lets the system choose a free port. */
export const RELAY_LISTEN_PORT = 0;
/** `--loss`, `--duplicate`, `--reorder` not given: the link never does it. */
export const RELAY_RATE = 0;
/** `--delay`, in ms: none. */
export const RELAY_DELAY_MS = 0;
/** `--chunk`: how the TCP stream is re-cut. */
export const RELAY_CHUNK = "random:1-64";
/** How long a coalesced piece waits to fill when `--chunk coalesce:BYTES` gives no time, in ms. */
export const RELAY_COALESCE_MS = 10;
