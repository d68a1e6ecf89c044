/**
 * QEMU command lines, built by pure functions so tests can read them. One microvm per job:
 * direct kernel boot, virtio-mmio disks found by serial (root overlay, workspace, config),
 * the serial console to a file, and a virtio-serial port for the agent.
 */

export type Accel = "kvm" | "tcg";

export interface QemuSpec {
  readonly binary: string;
  readonly accel: Accel;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly kernel: string;
  readonly initrd: string;
  readonly rootOverlay: string;
  readonly workspace: string;
  readonly config: string;
  readonly serialLog: string;
  readonly agentSocket: string;
  /** The guest's NIC: a tap in the sandbox's network namespace. Absent: no NIC at all. */
  readonly nic?: { readonly tap: string; readonly mac: string };
  /** Extra kernel command-line words. */
  readonly append?: readonly string[];
}

/**
 * QEMU's own seccomp filter (-sandbox): no obsolete syscalls, no setuid, no fork/exec, no
 * scheduler or resource tweaks. See qemu-options "-sandbox".
 */
export const QEMU_SANDBOX =
  "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

/**
 * Under TCG on a loaded host the guest's TSC and delay-loop calibration against the PIT can
 * fail and hang the boot ("tsc: Unable to calibrate against PIT"). Giving the values skips the
 * calibration; KVM has kvmclock and needs none of this.
 */
export const TCG_KERNEL_ARGS = [
  "tsc_early_khz=2000000",
  "tsc=reliable",
  "lpj=4000000",
  "no_timer_check",
];

/** TCG translation cache, in MiB: QEMU 7.2 defaults to 1 GiB, which would dwarf a small guest. */
export const TCG_TB_MIB = 128;

export function kernelCommandLine(extra: readonly string[] = []): string {
  return [
    "console=ttyS0",
    "root=/dev/vda",
    "rw",
    "init=/sbin/sandboxed-init",
    // A guest kernel panic must end the VM, not hang it until the timeout.
    "panic=-1",
    "reboot=t",
    "quiet",
    "loglevel=4",
    ...extra,
  ].join(" ");
}

export function qemuArgs(spec: QemuSpec): string[] {
  const accel = spec.accel === "kvm" ? "kvm" : `tcg,tb-size=${TCG_TB_MIB}`;
  const drive = (id: string, file: string, format: string, extra = ""): string[] => [
    "-drive",
    `id=${id},file=${file},format=${format},if=none,cache=unsafe,discard=unmap${extra}`,
    "-device",
    `virtio-blk-device,drive=${id},serial=${id}`,
  ];
  return [
    "-sandbox",
    QEMU_SANDBOX,
    "-M",
    "microvm,acpi=on",
    "-accel",
    accel,
    "-cpu",
    spec.accel === "kvm" ? "host" : "max",
    "-smp",
    String(spec.cpus),
    "-m",
    `${spec.memoryMiB}M`,
    "-nodefaults",
    "-no-user-config",
    "-nographic",
    "-no-reboot",
    "-kernel",
    spec.kernel,
    "-initrd",
    spec.initrd,
    "-append",
    kernelCommandLine([...(spec.accel === "tcg" ? TCG_KERNEL_ARGS : []), ...(spec.append ?? [])]),
    "-serial",
    `file:${spec.serialLog}`,
    ...drive("root", spec.rootOverlay, "qcow2"),
    ...drive("workspace", spec.workspace, "raw"),
    ...drive("config", spec.config, "raw", ",read-only=on"),
    "-device",
    "virtio-serial-device,max_ports=2",
    "-chardev",
    `socket,id=agent,path=${spec.agentSocket}`,
    "-device",
    "virtserialport,chardev=agent,name=sandboxed.agent",
    ...(spec.nic
      ? [
          "-netdev",
          `tap,id=net0,ifname=${spec.nic.tap},script=no,downscript=no`,
          "-device",
          `virtio-net-device,netdev=net0,mac=${spec.nic.mac}`,
        ]
      : []),
  ];
}
