/**
 * KVM when it works, TCG otherwise. /dev/kvm existing is not enough: on some nested hosts the
 * paravirtual KVM crashes stock guest kernels ("KVM internal error"). A probe boot of the
 * template with KVM, which must reach the agent, decides; the answer is cached per host boot.
 */
import { accessSync, constants, existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Accel } from "./qemu-args.js";

export interface AccelDecision {
  readonly accel: Accel;
  readonly reason: string;
}

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}

/** Where the probe's answer is cached; deleting it makes the next sandbox probe again. */
export function accelCacheFile(stateDir: string): string {
  return path.join(stateDir, "accel.json");
}

/** The probe's cached answer for this host boot, if any; reads only (doctor asks this too). */
export function cachedAccel(stateDir: string): AccelDecision | undefined {
  try {
    const cached = JSON.parse(readFileSync(accelCacheFile(stateDir), "utf8")) as {
      bootId: string;
      accel: Accel;
      reason: string;
    };
    if (cached.bootId === bootId()) {
      return { accel: cached.accel, reason: `${cached.reason} (cached)` };
    }
  } catch {
    // no cache yet
  }
  return undefined;
}

/**
 * `probe` boots the template once with KVM and resolves true when the agent answered.
 * Its result is cached in `<state>/accel.json` for this host boot.
 */
export async function detectAccel(
  stateDir: string,
  requested: "auto" | Accel,
  probe: () => Promise<boolean>,
): Promise<AccelDecision> {
  if (requested !== "auto") return { accel: requested, reason: "--accel" };
  if (!existsSync("/dev/kvm")) return { accel: "tcg", reason: "/dev/kvm is missing" };
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return { accel: "tcg", reason: "/dev/kvm is not accessible" };
  }
  const cached = cachedAccel(stateDir);
  if (cached) return cached;
  const works = await probe().catch(() => false);
  const decision: AccelDecision = works
    ? { accel: "kvm", reason: "a KVM probe boot reached the agent" }
    : { accel: "tcg", reason: "a KVM probe boot failed (nested or broken KVM)" };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(accelCacheFile(stateDir), JSON.stringify({ bootId: bootId(), ...decision }));
  return decision;
}
