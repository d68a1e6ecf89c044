/** The agent's job config (guest protocol), the same for every backend. */
import { PROTOCOL_VERSION } from "../guest/index.js";
import type { JobConfig } from "../guest/index.js";
import type { ResolvedPolicy } from "../policy/index.js";
import type { JobSpec } from "./types.js";
import type { JobUser } from "./workspace.js";

/**
 * RLIMIT_NPROC sits this far above the policy's pids, so that a job at the cap is seen there by
 * the agent's count (the breach, as a refused fork is in a VM), while a fork bomb stops a few
 * tasks beyond it instead of outrunning the count.
 */
const NPROC_HEADROOM = 16;

export function jobConfig(input: {
  readonly id: string;
  readonly policy: ResolvedPolicy;
  readonly user: JobUser;
  readonly job: JobSpec;
  readonly network?: JobConfig["network"];
  readonly sudoBroker?: boolean;
  /** Only where the job user's uid is the sandbox's own (a runsc container): see the protocol. */
  readonly nprocLimit?: boolean;
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
    ...(input.nprocLimit ? { nprocLimit: r.pids + NPROC_HEADROOM } : {}),
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
