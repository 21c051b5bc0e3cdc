/**
 * The kernel-loss variant of the reliable-udp workload, run by its worker under unshare: in a
 * private network namespace where the kernel drops the share of packets the repetition names,
 * the sliding window sends over loopback and reports what it measured (see withKernelLoss).
 */

import { withKernelLoss } from "@socket-lab/netsim";
import { KERNEL_LOSS_MTU, type ReliableRep, windowInNamespace } from "./reliable-roles.js";

/** Runs before the measured one: this process is new (see windowInNamespace). */
const WARM_ROUNDS = 4;

const rep = JSON.parse(process.argv[2] ?? "{}") as ReliableRep;
await withKernelLoss({ loss: rep.loss, mtu: KERNEL_LOSS_MTU }, () =>
  windowInNamespace(rep, WARM_ROUNDS),
);
