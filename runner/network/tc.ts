/**
 * Bandwidth caps for a sandbox (policy `network.bandwidth`, issue 4). Pure: returns `tc` argument
 * lists; netns.ts runs them inside the sandbox netns.
 *
 * Only egress can be shaped with a queue ("only egress qdiscs can have classes"; research §4.7),
 * so each direction is shaped where it *leaves* an interface of the sandbox netns, and no IFB is
 * needed:
 *  - guest egress (guest → world, `egressBps`) leaves the netns on the uplink's netns-side end;
 *  - guest ingress (world → guest, `ingressBps`) leaves the netns on the guest link (tap0).
 * Both interfaces belong to the one sandbox, so the caps are per sandbox and the guest, root or
 * not, cannot change them: they live outside the VM.
 *
 * A token bucket filter (tbf) per direction: classless, one rate, nothing to misconfigure. Choices:
 *  - `burst`: 10 ms worth of the rate, at least 16 KiB. tbf needs at least one MTU-sized packet
 *    (or it drops them all) and at least rate/HZ bytes (or it cannot reach the rate with a 250 Hz
 *    timer: 4 ms); 10 ms is above both and keeps the overshoot of any transfer small (the cap+10%
 *    promise holds for transfers of 11 bursts or more: 176 KiB at 8 Mbit/s).
 *  - `latency`: 50 ms, the longest a packet may wait in the queue (the queue is rate × 50 ms plus
 *    the burst). Long enough for TCP to fill the cap, short enough not to add seconds of
 *    bufferbloat to the guest's interactive traffic (Bacalhau's `latency 10sec` did).
 */
import type { AddressPlan } from "./address-plan.js";

export interface BandwidthCaps {
  /** Guest → world, bits per second. */
  readonly egressBps: number;
  /** World → guest, bits per second. */
  readonly ingressBps: number;
}

export const TBF_LATENCY_MS = 50;
export const TBF_MIN_BURST_BYTES = 16 * 1024;
export const TBF_BURST_SECONDS = 0.01;

export function tbfBurstBytes(bps: number): number {
  return Math.max(TBF_MIN_BURST_BYTES, Math.ceil((bps / 8) * TBF_BURST_SECONDS));
}

function checkRate(name: string, bps: number): void {
  // 1 Kbit/s is the policy's smallest unit; tc's rate is a 64-bit byte count.
  if (!Number.isSafeInteger(bps) || bps < 1000) {
    throw new RangeError(`${name} ${bps} bit/s is not a whole rate of at least 1000 bit/s`);
  }
}

/** `tc` argument list that caps what leaves `dev` at `bps`. `replace` so a re-apply is harmless. */
export function tbfArgs(dev: string, bps: number): string[] {
  return [
    "qdisc",
    "replace",
    "dev",
    dev,
    "root",
    "tbf",
    "rate",
    `${bps}bit`,
    "burst",
    String(tbfBurstBytes(bps)),
    "latency",
    `${TBF_LATENCY_MS}ms`,
  ];
}

/** Both directions, for the interfaces of `plan` in the sandbox netns. */
export function bandwidthCommands(plan: AddressPlan, caps: BandwidthCaps): string[][] {
  checkRate("egressBps", caps.egressBps);
  checkRate("ingressBps", caps.ingressBps);
  return [tbfArgs(plan.netnsIf, caps.egressBps), tbfArgs(plan.guestIf, caps.ingressBps)];
}
