/**
 * Network slots: one per live sandbox, so no two sandboxes share addresses or interface names
 * (address-plan.ts). Lock files under `<state>/net-slots/`, like the sandbox uids
 * (sandbox/vm/jail.ts `allocateUid`): the lock is recorded in the sandbox's journal before it is
 * created, so removal and `sandboxed gc` free the slot with the ordinary file remover.
 */
import { closeSync, mkdirSync, openSync, readdirSync, writeSync } from "node:fs";
import path from "node:path";
import { SandboxedError } from "../errors/index.js";
import { NET_SLOTS } from "./address-plan.js";

export function netSlotDir(stateDir: string): string {
  return path.join(stateDir, "net-slots");
}

export function allocateNetSlot(
  stateDir: string,
  record: (slot: number, lock: string) => void,
  /** Written into the lock, so removal can tell its own lock from a race winner's. */
  owner = "",
): number {
  const dir = netSlotDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const used = new Set(readdirSync(dir));
  for (let slot = 0; slot < NET_SLOTS; slot++) {
    if (used.has(String(slot))) continue;
    const lock = path.join(dir, String(slot));
    record(slot, lock);
    try {
      // O_EXCL: two runners racing for the same slot, one wins; the loser tries the next.
      const fd = openSync(lock, "wx", 0o600);
      writeSync(fd, owner);
      closeSync(fd);
      return slot;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new SandboxedError(
    "SBX_NETWORK_SLOTS",
    `all ${NET_SLOTS} sandbox network slots are in use`,
    {
      hint: `run \`sandboxed gc\` to free the slots of dead sandboxes (lock files in ${dir})`,
    },
  );
}
