/**
 * Jailer-style start of QEMU (after Firecracker's jailer): a fresh mount namespace in which the
 * state folder, home folders and temporary folders are replaced by empty tmpfs, with only this
 * sandbox's folder and its template mounted back (the template read-only); the process joins its
 * cgroup while still root, then drops to the sandbox's own unprivileged uid with no capabilities
 * and no_new_privs, and execs QEMU, which then applies its own seccomp filter (-sandbox).
 *
 * Order matters: cgroup before the uid drop (joining needs root), mounts before the drop (mount
 * needs CAP_SYS_ADMIN), and QEMU last, by exec, so the recorded pid is QEMU's own.
 */
import { closeSync, mkdirSync, openSync, readdirSync, writeSync } from "node:fs";
import path from "node:path";

export interface JailSpec {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups to keep (kvm, for /dev/kvm). */
  readonly groups: readonly number[];
  readonly stateDir: string;
  readonly sandboxDir: string;
  readonly templateDir: string;
  readonly cgroupProcs: readonly string[];
  readonly command: readonly string[];
  /**
   * A tun device node owned by the sandbox uid, bound over /dev/net/tun in the namespace: hosts
   * ship /dev/net/tun as 0600 root, and QEMU needs it to attach to its persistent tap.
   */
  readonly tunDevice?: string;
}

/** Folders a VMM never needs; each is covered with an empty tmpfs in its namespace. */
export const HIDDEN_DIRS = ["/root", "/home", "/tmp", "/var/tmp", "/srv", "/mnt", "/media", "/opt"];

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell program run by `unshare --mount --propagation private -- /bin/sh -c <script>`. */
export function jailScript(spec: JailSpec): string {
  const keep = "/run/sandboxed-jail";
  const lines = [
    "set -eu",
    ...spec.cgroupProcs.map((p) => `echo $$ > ${q(p)}`),
    // Carry this sandbox's folder and its template across the hiding of the state folder.
    `mkdir -p ${keep}`,
    `mount -t tmpfs -o size=1m,mode=700 sandboxed-jail ${keep}`,
    `mkdir ${keep}/sandbox ${keep}/template`,
    `mount --bind ${q(spec.sandboxDir)} ${keep}/sandbox`,
    `mount --bind ${q(spec.templateDir)} ${keep}/template`,
    `mount -t tmpfs -o size=1m,mode=755 sandboxed-state ${q(spec.stateDir)}`,
    `mkdir -p ${q(spec.sandboxDir)} ${q(spec.templateDir)}`,
    `mount --move ${keep}/sandbox ${q(spec.sandboxDir)}`,
    `mount --move ${keep}/template ${q(spec.templateDir)}`,
    `mount -o remount,bind,ro ${q(spec.templateDir)}`,
    `umount ${keep}`,
    ...(spec.tunDevice ? [`mount --bind ${q(spec.tunDevice)} /dev/net/tun`] : []),
    ...HIDDEN_DIRS.map(
      (d) =>
        `if [ -d ${d} ] && [ ${q(spec.stateDir)} != ${d} ]; then mount -t tmpfs -o size=1m,mode=755 sandboxed-hide ${d}; fi`,
    ),
    `exec setpriv --reuid=${spec.uid} --regid=${spec.gid} ` +
      (spec.groups.length > 0 ? `--groups=${spec.groups.join(",")} ` : "--clear-groups ") +
      `--inh-caps=-all --bounding-set=-all --no-new-privs -- ${spec.command.map(q).join(" ")}`,
  ];
  return lines.join("\n");
}

export function jailCommand(spec: JailSpec): { file: string; args: string[] } {
  return {
    file: "unshare",
    args: ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", jailScript(spec)],
  };
}

/** Per-sandbox uids: far above any real account, one lock file per uid under the state dir. */
export const UID_BASE = 1_900_000_000;
export const UID_SLOTS = 4096;

/**
 * Take the first free uid. The lock file holds the owner's sandbox id, and the record names that
 * owner, so a sandbox that lost a race for a lock never removes the winner's.
 */
export function allocateUid(
  stateDir: string,
  owner: string,
  record: (uid: number, lock: string) => void,
): number {
  const dir = path.join(stateDir, "uids");
  mkdirSync(dir, { recursive: true });
  const used = new Set(readdirSync(dir));
  for (let slot = 0; slot < UID_SLOTS; slot++) {
    const uid = UID_BASE + slot;
    if (used.has(String(uid))) continue;
    const lock = path.join(dir, String(uid));
    record(uid, lock);
    try {
      const fd = openSync(lock, "wx", 0o600);
      writeSync(fd, owner);
      closeSync(fd);
      return uid;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new Error(`all ${UID_SLOTS} sandbox uids are in use`);
}
