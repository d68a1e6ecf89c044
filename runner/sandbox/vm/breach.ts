/** Reasons a VM job ends at a cap, in the words the report uses, and QEMU's memory allowance. */
import { formatDuration, formatSize } from "../../policy/index.js";
import type { Breach } from "../index.js";
import type { Accel } from "./qemu-args.js";

/** Host memory QEMU may use beyond guest RAM: device state, page tables, TCG's code cache. */
export function vmmOverheadBytes(accel: Accel): number {
  return (accel === "kvm" ? 192 : 384) * 2 ** 20;
}

export function breachMessage(kind: Breach["kind"], limit: number): string {
  switch (kind) {
    case "memory":
      return `memory limit ${formatSize(limit)} exceeded`;
    case "disk":
      return `disk limit ${formatSize(limit)} reached`;
    case "timeout":
      return `timeout ${formatDuration(limit)}`;
    case "pids":
      return `process limit ${limit}`;
    default: {
      const never: never = kind;
      throw new Error(`unknown breach ${String(never)}`);
    }
  }
}
