// The Docker create request of a container sandbox, read as data (issue 7): every barrier it
// sets, with and without sudo, under each runtime.
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  AGENT_CAPS,
  AGENT_TASKS,
  CGROUP_PARENT,
  containerSpec,
  SANDBOX_LABEL,
  SUDO_CAPS,
} from "../../runner/sandbox/container/index.js";
import type { Runtime } from "../../runner/sandbox/container/index.js";
import { policy } from "../integration/helpers.js";

const RESOURCES = { cpus: 2, memory: "1GiB", disk: "2GiB", pids: 256, timeout: "10m" };
const WORKSPACE = "/var/lib/sandboxed/sandboxes/sbx-1/workspace";
const ETC = "/var/lib/sandboxed/sandboxes/sbx-1/etc";
const MEMORY = 1024 ** 3;

const noSudo = policy(RESOURCES, "isolation: { sudo: false }\n");
const withSudo = policy(RESOURCES, "isolation: { sudo: true }\n");

function spec(sudo: boolean, runtime: Runtime = "runsc", rootWritable?: boolean) {
  return containerSpec({
    id: "sbx-1",
    image: "sandboxed/minimal:abc",
    runtime,
    policy: sudo ? withSudo : noSudo,
    user: { name: "runner", uid: 1001, gid: 1001 },
    workspace: WORKSPACE,
    etc: ETC,
    ...(rootWritable === undefined ? {} : { rootWritable }),
  });
}

interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo: number; op: string }[];
}

function seccomp(securityOpt: readonly string[] | undefined): {
  defaultAction: string;
  syscalls: SeccompRule[];
} {
  const entries = (securityOpt ?? []).filter((o) => o.startsWith("seccomp="));
  expect(entries).toHaveLength(1);
  return JSON.parse(entries[0]!.slice("seccomp=".length)) as ReturnType<typeof seccomp>;
}

const under = (dir: string, file: string): boolean => {
  const rel = path.relative(dir, file);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
};

const variants = [
  { name: "without sudo", sudo: false },
  { name: "with sudo", sudo: true },
];

describe("containerSpec", () => {
  describe.each(variants)("$name", ({ sudo }) => {
    const s = spec(sudo);
    const h = s.HostConfig!;

    it.each([
      { name: "read-only root", get: () => h.ReadonlyRootfs, value: true },
      { name: "no network of Docker's", get: () => h.NetworkMode, value: "none" },
      { name: "not privileged", get: () => h.Privileged, value: false },
      { name: "every capability dropped first", get: () => h.CapDrop, value: ["ALL"] },
      { name: "CPUs from the policy", get: () => h.NanoCpus, value: 2e9 },
      { name: "memory from the policy", get: () => h.Memory, value: MEMORY },
      { name: "no swap beyond memory", get: () => h.MemorySwap, value: MEMORY },
      {
        name: "pids under runsc: a host guard above the Sentry's threads (the agent counts the job's)",
        get: () => h.PidsLimit,
        value: Math.max(2048, 4 * (256 + AGENT_TASKS)),
      },
      { name: "docker-init as PID 1", get: () => h.Init, value: true },
      { name: "no log driver", get: () => h.LogConfig?.Type, value: "none" },
      { name: "no devices", get: () => h.Devices, value: [] },
      { name: "under the sandboxed cgroup", get: () => h.CgroupParent, value: CGROUP_PARENT },
      { name: "the runtime as given", get: () => h.Runtime, value: "runsc" },
      {
        name: "labelled with the sandbox id",
        get: () => s.Labels?.[SANDBOX_LABEL],
        value: "sbx-1",
      },
      { name: "named after the sandbox", get: () => s.name, value: "sbx-1" },
    ])("$name", ({ get, value }) => {
      expect(get()).toEqual(value);
    });

    it("adds exactly the agent's capabilities, and sudo's only with sudo", () => {
      const expected = sudo ? [...AGENT_CAPS, ...SUDO_CAPS] : [...AGENT_CAPS];
      expect([...(h.CapAdd ?? [])].sort()).toEqual(expected.sort());
    });

    it.each(["SYS_ADMIN", "NET_ADMIN", "NET_RAW", "MKNOD", "SYS_PTRACE", "SYS_MODULE", "ALL"])(
      "never adds %s",
      (cap) => {
        expect(h.CapAdd ?? []).not.toContain(cap);
        expect(h.CapAdd ?? []).not.toContain(`CAP_${cap}`);
      },
    );

    it("sets no-new-privileges (runsc: sudo goes through the agent's broker, never setuid)", () => {
      expect((h.SecurityOpt ?? []).includes("no-new-privileges")).toBe(true);
    });

    it("turns off no confinement (AppArmor, SELinux, seccomp) and shares no host namespace", () => {
      expect((h.SecurityOpt ?? []).join(" ")).not.toMatch(/unconfined|label[:=]disable/);
      for (const mode of [h.PidMode, h.IpcMode, h.UTSMode, h.UsernsMode])
        expect(mode).not.toBe("host");
    });

    it("binds only from the workspace and the sandbox's etc folder", () => {
      const mounts = h.Mounts ?? [];
      expect(mounts.length).toBeGreaterThan(0);
      for (const m of mounts) {
        expect(m.Type, m.Target).toBe("bind");
        expect(under(WORKSPACE, m.Source!) || under(ETC, m.Source!), m.Source).toBe(true);
        for (const host of ["/var/run/docker.sock", "/run/sandboxed", "/", "/proc", "/sys", "/dev"])
          expect(m.Source).not.toBe(host);
      }
      expect(h.Binds ?? []).toEqual([]);
      expect(h.VolumesFrom ?? []).toEqual([]);
    });

    it.each(["/etc/resolv.conf", "/etc/hosts", "/etc/machine-id"])(
      "binds %s read-only from the etc folder",
      (target) => {
        const m = (h.Mounts ?? []).find((x) => x.Target === target);
        expect(m?.Source).toBe(path.join(ETC, path.basename(target)));
        expect(m?.ReadOnly).toBe(true);
      },
    );

    it(`${sudo ? "leaves" : "empties"} /etc/sudoers.d/sandboxed`, () => {
      const m = (h.Mounts ?? []).find((x) => x.Target === "/etc/sudoers.d/sandboxed");
      if (sudo) expect(m).toBeUndefined();
      else expect(m).toMatchObject({ Source: path.join(ETC, "no-sudo"), ReadOnly: true });
    });

    it("gives the workspace at /sandbox, its tmp at /tmp and /var/tmp, its home to the user", () => {
      const source = (target: string) => (h.Mounts ?? []).find((x) => x.Target === target)?.Source;
      expect(source("/sandbox")).toBe(WORKSPACE);
      expect(source("/tmp")).toBe(path.join(WORKSPACE, "tmp"));
      expect(source("/var/tmp")).toBe(path.join(WORKSPACE, "tmp"));
      expect(source("/home/runner")).toBe(path.join(WORKSPACE, "home"));
    });
  });

  describe.each([
    { runtime: "runsc" as const, clone3: false },
    { runtime: "runc" as const, clone3: true },
    { runtime: "sysbox-runc" as const, clone3: true },
  ])("seccomp under $runtime", ({ runtime, clone3 }) => {
    const profile = seccomp(spec(false, runtime).HostConfig!.SecurityOpt);
    const denied = (name: string) =>
      profile.syscalls.some(
        (r) => r.names.includes(name) && r.action === "SCMP_ACT_ERRNO" && !r.args?.length,
      );

    it.each(["unshare", "setns", "mount", "umount2", "pivot_root", "keyctl", "bpf", "ptrace"])(
      "denies %s outright",
      (name) => {
        expect(denied(name)).toBe(true);
      },
    );

    it("denies clone with CLONE_NEWUSER (masked compare of the flags)", () => {
      const rule = profile.syscalls.find(
        (r) => r.names.includes("clone") && r.args?.some((a) => a.value === 0x10000000),
      );
      expect(rule?.action).toBe("SCMP_ACT_ERRNO");
      expect(rule?.args).toEqual([
        { index: 0, value: 0x10000000, valueTwo: 0x10000000, op: "SCMP_CMP_MASKED_EQ" },
      ]);
    });

    it(clone3 ? "fails clone3 with ENOSYS" : "leaves clone3 to gVisor", () => {
      const rules = profile.syscalls.filter((r) => r.names.includes("clone3"));
      if (clone3)
        expect(rules).toEqual([
          expect.objectContaining({ action: "SCMP_ACT_ERRNO", errnoRet: 38 }),
        ]);
      else expect(rules).toEqual([]);
    });

    it("passes the runtime through", () => {
      expect(spec(false, runtime).HostConfig!.Runtime).toBe(runtime);
    });
  });
});

describe("containerSpec: the root", () => {
  it.each([
    { name: "read-only unless rootWritable says otherwise", rootWritable: undefined, ro: true },
    { name: "read-only when rootWritable is false", rootWritable: false, ro: true },
    { name: "writable (gVisor's memory overlay) when rootWritable", rootWritable: true, ro: false },
  ])("$name", ({ rootWritable, ro }) => {
    expect(spec(true, "runsc", rootWritable).HostConfig?.ReadonlyRootfs).toBe(ro);
  });
});

describe("containerSpec: pids under runtimes whose tasks are host tasks", () => {
  it.each([{ runtime: "runc" as const }, { runtime: "sysbox-runc" as const }])(
    "$runtime: the job's limit plus the agent's",
    ({ runtime }) => {
      expect(spec(false, runtime).HostConfig?.PidsLimit).toBe(256 + AGENT_TASKS);
    },
  );
});

describe("containerSpec: sudo by runtime", () => {
  const sudoBind = (runtime: Runtime, sudo: boolean) =>
    (spec(sudo, runtime).HostConfig?.Mounts ?? []).find((m) => m.Target === "/usr/bin/sudo");
  const nnp = (runtime: Runtime, sudo: boolean) =>
    (spec(sudo, runtime).HostConfig?.SecurityOpt ?? []).includes("no-new-privileges");
  it.each([
    {
      name: "runsc with sudo: the broker's shim, read-only, and no-new-privileges",
      runtime: "runsc" as const,
      sudo: true,
      shim: true,
      noNewPrivs: true,
    },
    {
      name: "runsc without sudo: no shim",
      runtime: "runsc" as const,
      sudo: false,
      shim: false,
      noNewPrivs: true,
    },
    {
      name: "runc with sudo: the real setuid sudo, so no no-new-privileges",
      runtime: "runc" as const,
      sudo: true,
      shim: false,
      noNewPrivs: false,
    },
    {
      name: "sysbox-runc without sudo: no-new-privileges",
      runtime: "sysbox-runc" as const,
      sudo: false,
      shim: false,
      noNewPrivs: true,
    },
  ])("$name", ({ runtime, sudo, shim, noNewPrivs }) => {
    const bind = sudoBind(runtime, sudo);
    expect(bind !== undefined).toBe(shim);
    if (bind) expect(bind).toMatchObject({ Source: `${ETC}/sudo`, ReadOnly: true });
    expect(nnp(runtime, sudo)).toBe(noNewPrivs);
  });
});
