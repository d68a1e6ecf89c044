// The QEMU command line and the jail script, read as text (issue 3, "Hardening of the host side").
import { describe, expect, it } from "vitest";
import {
  jailScript,
  kernelCommandLine,
  qemuArgs,
  QEMU_SANDBOX,
} from "../../runner/sandbox/vm/index.js";

const spec = {
  binary: "qemu-system-x86_64",
  accel: "tcg" as const,
  cpus: 2,
  memoryMiB: 512,
  kernel: "/t/vmlinuz",
  initrd: "/t/initramfs.cpio",
  rootOverlay: "/s/root.qcow2",
  workspace: "/s/workspace.img",
  config: "/s/config.img",
  serialLog: "/s/serial.log",
  agentSocket: "/s/agent.sock",
};

describe("qemuArgs", () => {
  const args = qemuArgs(spec);
  const joined = args.join(" ");

  it.each([
    { name: "seccomp sandbox on, every deny", flag: "-sandbox", value: QEMU_SANDBOX },
    { name: "microvm machine", flag: "-M", value: "microvm,acpi=on" },
    { name: "TCG with a bounded translation cache", flag: "-accel", value: "tcg,tb-size=128" },
    { name: "vCPUs from the policy", flag: "-smp", value: "2" },
    { name: "guest RAM from the policy", flag: "-m", value: "512M" },
    { name: "direct kernel boot", flag: "-kernel", value: "/t/vmlinuz" },
    { name: "serial console to a file", flag: "-serial", value: "file:/s/serial.log" },
  ])("$name", ({ flag, value }) => {
    expect(args[args.indexOf(flag) + 1]).toBe(value);
  });

  it("uses KVM with the host CPU when asked", () => {
    const kvm = qemuArgs({ ...spec, accel: "kvm" });
    expect(kvm[kvm.indexOf("-accel") + 1]).toBe("kvm");
    expect(kvm[kvm.indexOf("-cpu") + 1]).toBe("host");
  });

  it("gives the config disk read-only and every disk a serial", () => {
    expect(joined).toContain(
      "id=config,file=/s/config.img,format=raw,if=none,cache=unsafe,discard=unmap,read-only=on",
    );
    for (const id of ["root", "workspace", "config"])
      expect(joined).toContain(`drive=${id},serial=${id}`);
  });

  it("shares no host folder with the guest and adds no default devices", () => {
    expect(joined).not.toMatch(/virtfs|9p|vhost-user-fs|virtio-fs|-fsdev|-net |netdev/);
    expect(args).toContain("-nodefaults");
    expect(args).toContain("-no-user-config");
  });

  it("boots the sandboxed init and ends the VM on a guest panic", () => {
    expect(kernelCommandLine()).toContain("init=/sbin/sandboxed-init");
    expect(kernelCommandLine()).toContain("panic=-1");
  });
});

describe("jailScript", () => {
  const script = jailScript({
    uid: 1900000007,
    gid: 1900000007,
    groups: [],
    stateDir: "/var/lib/sandboxed",
    sandboxDir: "/var/lib/sandboxed/sandboxes/sbx-1",
    templateDir: "/var/lib/sandboxed/templates/minimal/abc",
    cgroupProcs: ["/sys/fs/cgroup/pids/sandboxed/sbx-1/cgroup.procs"],
    command: ["qemu-system-x86_64", "-m", "512M"],
  });
  const lines = script.split("\n");

  it("joins the cgroup before anything else, while still root", () => {
    expect(lines[1]).toBe("echo $$ > '/sys/fs/cgroup/pids/sandboxed/sbx-1/cgroup.procs'");
  });

  it("hides the state folder and mounts back only this sandbox and its template, read-only", () => {
    expect(script).toContain(
      "mount -t tmpfs -o size=1m,mode=755 sandboxed-state '/var/lib/sandboxed'",
    );
    expect(script).toContain(
      "mount --move /run/sandboxed-jail/sandbox '/var/lib/sandboxed/sandboxes/sbx-1'",
    );
    expect(script).toContain("mount -o remount,bind,ro '/var/lib/sandboxed/templates/minimal/abc'");
  });

  it("ends by exec'ing QEMU as the sandbox uid with no capabilities and no_new_privs", () => {
    expect(lines.at(-1)).toBe(
      "exec setpriv --reuid=1900000007 --regid=1900000007 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- 'qemu-system-x86_64' '-m' '512M'",
    );
  });
});
