/** QEMU's memory allowance beyond guest RAM. */
import type { Accel } from "./qemu-args.js";

/** Host memory QEMU may use beyond guest RAM: device state, page tables, TCG's code cache. */
export function vmmOverheadBytes(accel: Accel): number {
  return (accel === "kvm" ? 192 : 384) * 2 ** 20;
}
