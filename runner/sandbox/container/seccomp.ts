/**
 * The seccomp profile of every container sandbox, on top of the runtime's own: no new
 * namespaces (clone with a CLONE_NEW* flag, unshare, setns), no mounts of any kind, no kernel
 * keyrings, BPF, perf, userfaultfd, ptrace of others, module loading or handle-based opens.
 * Everything else is left to the runtime (gVisor implements its own syscall surface).
 *
 * clone3 carries its flags in memory a filter cannot read, so it must fail as a whole: ENOSYS,
 * which makes libc fall back to clone. gVisor (runsc here, 2022-12) does not implement clone3 at
 * all, and its OCI seccomp support mishandles an ENOSYS rule (threads fail to start), so the
 * rule is left out for runsc; test/integration/container.test.ts proves clone3(CLONE_NEWUSER)
 * fails there, and will fail the day a runsc that implements clone3 arrives.
 */
import type { Runtime } from "./runtime.js";

const EPERM = 1;
const ENOSYS = 38;

const DENIED = [
  "unshare",
  "setns",
  "mount",
  "umount2",
  "pivot_root",
  "chroot",
  "mount_setattr",
  "fsopen",
  "fsmount",
  "fsconfig",
  "fspick",
  "move_mount",
  "open_tree",
  "keyctl",
  "add_key",
  "request_key",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "open_by_handle_at",
  "name_to_handle_at",
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  // Kernel surfaces a job has no use for, denied as Docker's default profile denies them.
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
  "uselib",
  "vm86",
  "vm86old",
  "acct",
  "swapon",
  "swapoff",
  "reboot",
  "syslog",
  "settimeofday",
  "clock_settime",
  "clock_adjtime",
  "adjtimex",
  "iopl",
  "ioperm",
  "quotactl",
  "lookup_dcookie",
  "nfsservctl",
];

/** CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME. */
export const CLONE_NAMESPACE_FLAGS = [
  0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080,
];

export interface SeccompProfile {
  readonly defaultAction: "SCMP_ACT_ALLOW";
  /** Every ABI a process could call through (int 0x80, x32), so none escapes the rules. */
  readonly architectures: readonly string[];
  readonly syscalls: readonly {
    readonly names: readonly string[];
    readonly action: "SCMP_ACT_ERRNO";
    readonly errnoRet: number;
    readonly args?: readonly {
      readonly index: number;
      readonly value: number;
      readonly valueTwo: number;
      readonly op: "SCMP_CMP_MASKED_EQ";
    }[];
  }[];
}

export function seccompProfile(runtime: Runtime): SeccompProfile {
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [
      { names: DENIED, action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      // One rule per flag: (flags & flag) == flag.
      ...CLONE_NAMESPACE_FLAGS.map((flag) => ({
        names: ["clone"],
        action: "SCMP_ACT_ERRNO" as const,
        errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: "SCMP_CMP_MASKED_EQ" as const }],
      })),
      ...(runtime === "runsc"
        ? []
        : [{ names: ["clone3"], action: "SCMP_ACT_ERRNO" as const, errnoRet: ENOSYS }]),
    ],
  };
}
