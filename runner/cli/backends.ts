/**
 * One way for every command to get sandboxes: the VM backend (template + accelerator probe) or
 * the container backend (the template's image on a Docker daemon with a hardened runtime). Which
 * one: `--backend`, else the policy's `isolation.backend` (default vm).
 */
import type { Resolver } from "../network/index.js";
import type { ResolvedPolicy } from "../policy/index.js";
import type { Sandbox, SandboxEvent } from "../sandbox/index.js";
import {
  connectDocker,
  createContainerSandbox,
  daemonFacts,
  DEFAULT_DOCKER_SOCKET,
  ensureImage,
} from "../sandbox/container/index.js";
import { createVmSandbox, detectAccel } from "../sandbox/vm/index.js";
import type { Accel, VmTemplate } from "../sandbox/vm/index.js";
import type { Io } from "./main.js";
import { newId } from "./sandbox-commands.js";

export type BackendName = "vm" | "container";

export interface BackendOptions {
  readonly backend: BackendName | undefined;
  readonly stateDir: string;
  readonly template: VmTemplate;
  readonly accel: "auto" | Accel;
  readonly policy: ResolvedPolicy;
  readonly dockerSocket?: string | undefined;
  readonly resolver?: Resolver | undefined;
}

export type SandboxMaker = (
  id: string,
  policy: ResolvedPolicy,
  onEvent: (event: SandboxEvent) => void,
) => Sandbox;

export function backendOf(requested: BackendName | undefined, policy: ResolvedPolicy): BackendName {
  return requested ?? policy.isolation.backend;
}

/** Ready the chosen backend once (probe, daemon, image), then make sandboxes on it. */
export async function prepareBackend(io: Io, options: BackendOptions): Promise<SandboxMaker> {
  const { stateDir, template, resolver } = options;
  const extra = resolver ? { resolver } : {};
  if (backendOf(options.backend, options.policy) === "container") {
    const socket = options.dockerSocket ?? DEFAULT_DOCKER_SOCKET;
    const docker = connectDocker(socket);
    const facts = await daemonFacts(docker, socket);
    io.stderr(
      `[sandbox] container backend: Docker ${facts.version} on ${socket}, runtimes ${Object.keys(facts.runtimeArgs).join(", ")}\n`,
    );
    const started = Date.now();
    await ensureImage(docker, template, (line) =>
      io.stderr(`[image ${Math.round((Date.now() - started) / 1000)}s] ${line}\n`),
    );
    return (id, policy, onEvent) =>
      createContainerSandbox({
        id,
        policy,
        stateDir,
        image: template,
        dockerSocket: socket,
        onEvent,
        ...extra,
      });
  }
  const accel = await chooseAccel(io, stateDir, options.accel, template, options.policy);
  return (id, policy, onEvent) =>
    createVmSandbox({ id, policy, stateDir, template, accel, onEvent, ...extra });
}

/** The VM accelerator: KVM where a probe boot works (cached per host boot), else TCG. */
export async function chooseAccel(
  io: Io,
  stateDir: string,
  requested: "auto" | Accel,
  template: VmTemplate,
  policy: ResolvedPolicy,
) {
  return detectAccel(stateDir, requested, async () => {
    const probe = createVmSandbox({
      id: `${newId()}-probe`,
      policy: {
        ...policy,
        resources: { ...policy.resources, cpus: 1, memoryBytes: 512 * 2 ** 20, timeoutSeconds: 60 },
        network: { ...policy.network, mode: "none" },
      },
      stateDir,
      template,
      accel: "kvm",
    });
    try {
      const report = await probe.run({ steps: [{ name: "probe", argv: ["true"] }] });
      return report.outcome === "success";
    } finally {
      await probe.destroy();
    }
  }).then((d) => {
    io.stderr(`[sandbox] accelerator ${d.accel}: ${d.reason}\n`);
    return d.accel;
  });
}
