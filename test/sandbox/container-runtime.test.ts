// Which runtime a container sandbox gets (issue 7): hardened by default, runc only when a
// policy names it; and the daemon's and the image's names.
import { describe, expect, it } from "vitest";
import { SandboxedError } from "../../runner/errors/index.js";
import {
  backendLabel,
  checkRuntimeArgs,
  chooseRuntime,
  connectDocker,
  daemonFacts,
  imageTag,
  rootWritable,
  IMAGE_EXTRAS_ID,
} from "../../runner/sandbox/container/index.js";

const DAEMON = "/run/sandboxed/docker.sock";

function caught(fn: () => unknown): SandboxedError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SandboxedError) return error;
    throw error;
  }
  throw new Error("expected a SandboxedError");
}

describe("chooseRuntime", () => {
  it.each([
    {
      name: "auto takes runsc over runc",
      requested: "auto" as const,
      available: ["runc", "runsc"],
      runtime: "runsc",
      label: "container (runsc)",
    },
    {
      name: "auto takes sysbox-runc first",
      requested: "auto" as const,
      available: ["runc", "runsc", "sysbox-runc"],
      runtime: "sysbox-runc",
      label: "container (sysbox-runc)",
    },
    {
      name: "runsc when the policy names it",
      requested: "runsc" as const,
      available: ["runc", "runsc"],
      runtime: "runsc",
      label: "container (runsc)",
    },
  ])("$name", ({ requested, available, runtime, label }) => {
    const choice = chooseRuntime(requested, available, DAEMON);
    expect(choice).toEqual({ runtime, hardened: true });
    expect(backendLabel(choice)).toBe(label);
  });

  it("gives runc when the policy names it, and says loudly it is not hardened", () => {
    const choice = chooseRuntime("runc", ["runc", "runsc"], DAEMON);
    expect(choice).toEqual({ runtime: "runc", hardened: false });
    expect(backendLabel(choice)).toContain("NOT HARDENED");
  });

  it.each([
    {
      name: "auto with only runc: refused, never a silent fallback",
      requested: "auto" as const,
      available: ["runc"],
      message: /runc is refused/,
      hint: /runsc/,
    },
    {
      name: "auto on a daemon with no runtime at all",
      requested: "auto" as const,
      available: [],
      message: /has none/,
      hint: /scripts\/dockerd\.sh/,
    },
    {
      name: "runsc asked for, missing",
      requested: "runsc" as const,
      available: ["runc"],
      message: /asks for runtime runsc/,
      hint: /scripts\/dockerd\.sh/,
    },
    {
      name: "sysbox-runc asked for, missing",
      requested: "sysbox-runc" as const,
      available: ["runc", "runsc"],
      message: /asks for runtime sysbox-runc/,
      hint: /Sysbox/,
    },
    {
      name: "runc asked for, missing",
      requested: "runc" as const,
      available: ["runsc"],
      message: /asks for runtime runc/,
      hint: /./,
    },
  ])("$name: SBX_CONTAINER_RUNTIME", ({ requested, available, message, hint }) => {
    const error = caught(() => chooseRuntime(requested, available, DAEMON));
    expect(error.code).toBe("SBX_CONTAINER_RUNTIME");
    expect(error.message).toContain(DAEMON);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
  });
});

describe("imageTag", () => {
  it.each([
    {
      name: "a plain template",
      template: "minimal",
      tag: `sandboxed/minimal:abc-${IMAGE_EXTRAS_ID}`,
    },
    {
      name: "a template with the runner",
      template: "default+runner",
      tag: `sandboxed/default-runner:abc-${IMAGE_EXTRAS_ID}`,
    },
  ])("$name", ({ template, tag }) => {
    expect(imageTag({ name: template, hash: "abc" })).toBe(tag);
  });
});

describe("daemonFacts", () => {
  it("names the socket and says how to start a daemon when none answers: SBX_CONTAINER_DAEMON", async () => {
    const socket = "/nonexistent.sock";
    const error = await daemonFacts(connectDocker(socket), socket).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxedError);
    expect((error as SandboxedError).code).toBe("SBX_CONTAINER_DAEMON");
    expect((error as SandboxedError).message).toContain(socket);
    expect((error as SandboxedError).hint).toContain("scripts/dockerd.sh");
    expect((error as SandboxedError).hint).toContain("--docker-socket");
  });
});

describe("rootWritable (default: read-only)", () => {
  const DOCKERD_SH = ["--network=host", "--oci-seccomp", "--overlay2=root:memory"];
  it.each([
    {
      name: "runsc, sudo, root overlay in memory",
      runtime: "runsc",
      sudo: true,
      args: DOCKERD_SH,
      writable: true,
    },
    {
      name: "runsc without sudo: nobody could write there",
      runtime: "runsc",
      sudo: false,
      args: DOCKERD_SH,
      writable: false,
    },
    {
      name: "runsc without the overlay: Docker's layer is host disk",
      runtime: "runsc",
      sudo: true,
      args: ["--network=host"],
      writable: false,
    },
    {
      name: "runsc with a host-folder overlay: host disk again",
      runtime: "runsc",
      sudo: true,
      args: ["--overlay2=root:/var/tmp"],
      writable: false,
    },
    {
      name: "runc with sudo: its writes would be Docker's layer",
      runtime: "runc",
      sudo: true,
      args: DOCKERD_SH,
      writable: false,
    },
    {
      name: "sysbox-runc with sudo",
      runtime: "sysbox-runc",
      sudo: true,
      args: [],
      writable: false,
    },
  ] as const)("$name", ({ runtime, sudo, args, writable }) => {
    expect(rootWritable(runtime, sudo, args)).toBe(writable);
  });
});

describe("checkRuntimeArgs", () => {
  it.each([
    { name: "every mount in memory", args: ["--overlay2=all:memory"] },
    { name: "every mount in a host folder", args: ["--overlay2=all:/var/tmp"] },
    { name: "the deprecated --overlay", args: ["--overlay"] },
  ])("refuses runsc with $name: the workspace's disk cap would not hold", ({ args }) => {
    const error = caught(() =>
      checkRuntimeArgs({ runtime: "runsc", hardened: true }, args, DAEMON),
    );
    expect(error.code).toBe("SBX_CONTAINER_RUNTIME");
    expect(error.message).toContain(`runs with ${args[0]}`);
    expect(error.hint).toContain("--overlay2=root:memory");
  });

  it.each([
    {
      name: "runsc as scripts/dockerd.sh registers it",
      runtime: "runsc",
      args: ["--network=host", "--oci-seccomp", "--overlay2=root:memory"],
    },
    { name: "runsc with overlays off", runtime: "runsc", args: ["--overlay2=none"] },
    { name: "runc (the flag means nothing to it)", runtime: "runc", args: ["--overlay"] },
  ] as const)("accepts $name", ({ runtime, args }) => {
    expect(() =>
      checkRuntimeArgs({ runtime, hardened: runtime !== "runc" }, args, DAEMON),
    ).not.toThrow();
  });
});
