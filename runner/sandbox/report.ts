/**
 * The report every backend returns, from what it learned: the agent's state, a breach the host
 * saw itself, an infrastructure error, and the egress record. One place decides the outcome
 * and the exit status, so a cap reads the same on every backend.
 */
import type { EgressDecisionLog } from "../network/index.js";
import type { ResolvedPolicy } from "../policy/index.js";
import { breachMessage } from "./breach.js";
import type { JobState } from "./job-state.js";
import { EXIT_STATUS } from "./types.js";
import type { Breach, SandboxReport } from "./types.js";

/** A breach of `kind`, worded from the policy's limit. */
export function breachOf(policy: ResolvedPolicy, kind: Breach["kind"]): Breach {
  const r = policy.resources;
  const limit = {
    memory: r.memoryBytes,
    disk: r.diskBytes,
    timeout: r.timeoutSeconds,
    pids: r.pids,
  }[kind];
  return { kind, message: breachMessage(kind, limit), limit };
}

export interface ReportInput {
  readonly id: string;
  readonly backend: string;
  readonly policy: ResolvedPolicy;
  readonly state: JobState;
  readonly breach: Breach | undefined;
  readonly error: string | undefined;
  /** A driven job's verdict (the workflow engine's); undefined: judge by the config steps. */
  readonly driven: boolean;
  readonly driverVerdict: "success" | "failure" | undefined;
  readonly timings: SandboxReport["timings"];
  readonly peaks?: SandboxReport["peaks"];
  readonly egress?: {
    readonly decisions: readonly EgressDecisionLog[];
    readonly droppedPackets: Readonly<Record<string, number>> | undefined;
  };
}

export function composeReport(input: ReportInput): SandboxReport {
  const { breach, error, state, policy } = input;
  const r = policy.resources;
  const failed = input.driven
    ? input.driverVerdict !== "success"
    : state.steps.some((s) => s.exitCode !== 0);
  const outcome = breach ? "limit" : error ? "infrastructure" : failed ? "failure" : "success";
  const exitStatus = breach
    ? EXIT_STATUS[breach.kind]
    : error
      ? EXIT_STATUS.infrastructure
      : failed
        ? EXIT_STATUS.failure
        : EXIT_STATUS.success;
  const decisions = input.egress?.decisions ?? [];
  return {
    id: input.id,
    backend: input.backend,
    outcome,
    exitStatus,
    ...(breach ? { breach } : {}),
    steps: state.steps.filter(Boolean),
    peaks: input.peaks ?? state.peaks,
    limits: {
      cpus: r.cpus,
      memoryBytes: r.memoryBytes,
      diskBytes: r.diskBytes,
      pids: r.pids,
      timeoutSeconds: r.timeoutSeconds,
    },
    timings: input.timings,
    ...(error ? { error } : {}),
    ...(input.egress
      ? {
          egress: {
            mode: policy.network.mode,
            allowed: decisions.filter((d) => d.verdict === "allow").length,
            denied: decisions.filter((d) => d.verdict === "deny").length,
            decisions,
            ...(input.egress.droppedPackets ? { droppedPackets: input.egress.droppedPackets } : {}),
          },
        }
      : {}),
  };
}
