/** The agent's job config (guest protocol), the same for every backend. */
import { PROTOCOL_VERSION } from "../guest/index.js";
import type { JobConfig } from "../guest/index.js";
import type { ResolvedPolicy } from "../policy/index.js";
import type { JobSpec } from "./types.js";
import type { JobUser } from "./workspace.js";

export function jobConfig(input: {
  readonly id: string;
  readonly policy: ResolvedPolicy;
  readonly user: JobUser;
  readonly job: JobSpec;
  readonly network?: JobConfig["network"];
  readonly sudoBroker?: boolean;
}): JobConfig {
  const { job, policy } = input;
  const r = policy.resources;
  return {
    v: PROTOCOL_VERSION,
    ...(input.network ? { network: input.network } : {}),
    id: input.id,
    user: input.user,
    sudo: policy.isolation.sudo,
    ...(input.sudoBroker ? { sudoBroker: true } : {}),
    limits: { memoryBytes: r.memoryBytes, pids: r.pids, diskBytes: r.diskBytes },
    env: { ...(job.env ?? {}) },
    stopOnFailure: job.stopOnFailure ?? true,
    ...(job.drive ? { interactive: true } : {}),
    steps: job.steps.map((s) => ({
      name: s.name,
      argv: [...s.argv],
      env: { ...(s.env ?? {}) },
      workingDirectory: s.workingDirectory ?? ".",
    })),
  };
}
