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
  const cache = path.join(stateDir, "accel.json");
  const boot = bootId();
  try {
    const cached = JSON.parse(readFileSync(cache, "utf8")) as {
      bootId: string;
      accel: Accel;
      reason: string;
    };
    if (cached.bootId === boot) return { accel: cached.accel, reason: `${cached.reason} (cached)` };
  } catch {
    // no cache yet
  }
  const works = await probe().catch(() => false);
  const decision: AccelDecision = works
    ? { accel: "kvm", reason: "a KVM probe boot reached the agent" }
    : { accel: "tcg", reason: "a KVM probe boot failed (nested or broken KVM)" };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(cache, JSON.stringify({ bootId: boot, ...decision }));
  return decision;
}
