/**
 * What runs inside a worker process: a role is a set of methods the orchestrator calls by name
 * over the IPC channel, one call at a time. The first call, `init`, creates the role.
 */

/** Methods by name; each takes at most one JSON argument and returns JSON (or a promise of it). */
export type Role = Record<string, (args: never) => unknown>;

/** A message from the orchestrator to a worker. */
export interface Call {
  readonly id: number;
  readonly method: string;
  readonly args?: unknown;
}

/** A worker's answer to one {@link Call}: its value, or the error it threw. */
export type Reply =
  | { readonly id: number; readonly value: unknown }
  | { readonly id: number; readonly error: string };

/** The argument of `init`: which role to become, with its options. */
export interface InitArgs {
  readonly role: string;
  readonly options: unknown;
}

/** 127.0.0.1: every socket of the benchmark binds and connects here, and nowhere else. */
export const LOOPBACK = "127.0.0.1";
