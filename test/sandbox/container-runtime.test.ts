// Which runtime a container sandbox gets (issue 7): hardened by default, runc only when a
// policy names it; and the daemon's and the image's names.
import { describe, expect, it } from "vitest";
import { SandboxedError } from "../../runner/errors/index.js";
import {
  backendLabel,
  chooseRuntime,
  connectDocker,
  daemonFacts,
  imageTag,
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
    { name: "a plain template", template: "minimal", tag: "sandboxed/minimal:abc" },
    {
      name: "a template with the runner",
      template: "default+runner",
      tag: "sandboxed/default-runner:abc",
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
