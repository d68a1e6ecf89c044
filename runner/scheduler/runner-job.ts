/**
 * The job a service sandbox runs: the official actions runner, once, with its just-in-time
 * config. The config reaches the guest only inside the exec request on the sandbox's own channel
 * (env ACTIONS_RUNNER_INPUT_JITCONFIG, which the runner reads like `--jitconfig`): it is never in
 * an argv, a log line, or a file on the host.
 */
import type { ResolvedPolicy } from "../policy/index.js";
import { formatDuration, formatSize } from "../policy/index.js";
import type { JobControl, JobSpec } from "../sandbox/index.js";
import type { Secret } from "./types.js";

/** Where the template's runner layer put the runner, and the env that makes it run the hooks. */
export interface GuestRunner {
  readonly dir: string;
  readonly hookEnv: Readonly<Record<string, string>>;
}

/** What the runner printed that the host acts on (actions/runner `Runner.Listener` lines). */
export type RunnerSignal =
  | { readonly kind: "taken"; readonly jobName: string }
  | { readonly kind: "finished"; readonly jobName: string; readonly result: string };

const TAKEN = /Running job: (.+?)\s*$/;
const FINISHED = /Job (.+?) completed with result: (\w+)/;

/** Pure: one line of runner output → what it means to the host, if anything. */
export function runnerSignal(line: string): RunnerSignal | undefined {
  const finished = FINISHED.exec(line);
  if (finished) return { kind: "finished", jobName: finished[1]!, result: finished[2]! };
  const taken = TAKEN.exec(line);
  if (taken) return { kind: "taken", jobName: taken[1]! };
  return undefined;
}

/**
 * Pure: the policy in a few lines, for the top of the GitHub job log (job-started hook). The
 * backend is the label set's, which chooses it (a policy's own isolation.backend does not).
 */
export function policySummary(
  policy: ResolvedPolicy,
  labelSet: string,
  backend: string = policy.isolation.backend,
): string {
  const r = policy.resources;
  const net = policy.network;
  const allow = net.allow.map((rule) =>
    rule.kind === "host" ? `${rule.wildcard ? "*." : ""}${rule.host}` : rule.cidr,
  );
  const shown =
    allow.slice(0, 12).join(", ") + (allow.length > 12 ? `, +${allow.length - 12}` : "");
  return [
    `label set ${labelSet}; policy ${policy.files.at(-1) ?? "(default)"}${net.mode === "audit" ? " (audit mode: nothing is blocked)" : ""}`,
    `backend ${backend}; sudo ${policy.isolation.sudo ? "yes" : "no"}`,
    `cpus ${r.cpus}; memory ${formatSize(r.memoryBytes)}; disk ${formatSize(r.diskBytes)}; pids ${r.pids}; timeout ${formatDuration(r.timeoutSeconds)}`,
    net.mode === "none"
      ? "network: none"
      : `egress ${net.mode}: ${allow.length === 0 ? "nothing allowed" : shown}`,
  ].join("\n");
}

export interface RunnerDrive {
  readonly spec: JobSpec;
  /** Ends the runner when it has taken no job yet (idle deadline, job cancelled, drain). */
  abortIfIdle(reason: "idle" | "cancelled"): boolean;
  /** The source saw our runner take a job (a webhook): the idle deadline no longer applies. */
  markTaken(): void;
  state(): {
    taken: boolean;
    abortedFor?: "idle" | "cancelled";
    result?: string;
    exitCode?: number | null;
  };
}

export interface RunnerDriveOptions {
  readonly runner: GuestRunner;
  readonly jitConfig: Secret;
  readonly policySummary: string;
  readonly idleTimeoutMs: number;
  readonly onOutput: (text: string) => void;
  readonly onSignal?: (signal: RunnerSignal) => void;
  readonly setTimer?: (fn: () => void, ms: number) => { clear(): void };
}

const realTimer = (fn: () => void, ms: number): { clear(): void } => {
  const t = setTimeout(fn, ms);
  return { clear: () => clearTimeout(t) };
};

/** A JobSpec whose driver runs the runner once and watches it take and finish its job. */
export function runnerDrive(options: RunnerDriveOptions): RunnerDrive {
  const setTimer = options.setTimer ?? realTimer;
  const abort = new AbortController();
  const state: ReturnType<RunnerDrive["state"]> = { taken: false };
  let idleTimer: { clear(): void } | undefined;
  let pending = "";
  const markTaken = (): void => {
    state.taken = true;
    idleTimer?.clear();
  };
  const abortIfIdle = (reason: "idle" | "cancelled"): boolean => {
    if (state.taken || abort.signal.aborted) return false;
    state.abortedFor = reason;
    abort.abort();
    return true;
  };
  const onText = (text: string): void => {
    options.onOutput(text);
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const signal = runnerSignal(line);
      if (!signal) continue;
      if (signal.kind === "taken") markTaken();
      else state.result = signal.result;
      options.onSignal?.(signal);
    }
  };
  const drive = async (control: JobControl): Promise<"success" | "failure"> => {
    idleTimer = setTimer(() => abortIfIdle("idle"), options.idleTimeoutMs);
    try {
      const result = await control.exec(
        {
          name: "actions runner",
          argv: [`${options.runner.dir}/run.sh`],
          workingDirectory: options.runner.dir,
          env: {
            ...options.runner.hookEnv,
            ACTIONS_RUNNER_INPUT_JITCONFIG: options.jitConfig.reveal(),
            SANDBOXED_POLICY_SUMMARY: options.policySummary,
            // The runner's own self-update would replace the pinned, checked binary.
            DISABLE_RUNNER_UPDATE: "1",
          },
          signal: abort.signal,
        },
        (_stream, text) => onText(text),
      );
      if (pending) onText("\n");
      state.exitCode = result.exitCode;
      const ok = result.exitCode === 0 && state.abortedFor === undefined;
      return ok && (state.result === undefined || state.result === "Succeeded")
        ? "success"
        : "failure";
    } finally {
      idleTimer.clear();
    }
  };
  return {
    spec: { steps: [], drive },
    abortIfIdle,
    markTaken,
    state: () => ({ ...state }),
  };
}
