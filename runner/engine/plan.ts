/**
 * Orders a workflow's jobs by `needs` into stages: every job of stage n needs only jobs of earlier
 * stages (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds).
 * Matrices are not expanded here: a strategy may read `needs` outputs, known only at run time.
 */
import { SandboxedError } from "../errors/index.js";
import type { SourceRef } from "../errors/index.js";
import type { JobNeed, LoadedWorkflow, WorkflowJob } from "./workflow.js";

export interface PlanOptions {
  /** Run this job and, transitively, the jobs it needs (`--job ID`; case-insensitive). */
  readonly job?: string;
  /** Keep only matrix combinations with these values; applied by expandMatrix. */
  readonly matrixFilter?: Readonly<Record<string, string>>;
}

export interface Plan {
  /** Jobs of one stage may run side by side; stages run in order. File order inside a stage. */
  readonly stages: readonly (readonly WorkflowJob[])[];
  readonly matrixFilter: Readonly<Record<string, string>> | undefined;
}

/** One `needs` entry: job `from` needs job `id`, written at `source`. */
export interface NeedsEdge {
  readonly from: string;
  readonly id: string;
  readonly source: SourceRef;
}

interface NeedsNode {
  readonly id: string;
  readonly needs: readonly JobNeed[];
}

export function planJobs(workflow: LoadedWorkflow, options: PlanOptions = {}): Plan {
  const byLower = new Map(workflow.jobs.map((j) => [j.id.toLowerCase(), j]));
  const cycle = findNeedsCycle(workflow.jobs);
  if (cycle !== undefined) {
    throw new SandboxedError(
      "SBX_ENGINE_NEEDS_CYCLE",
      `needs form a cycle: ${[...cycle.map((e) => e.from), cycle[0]!.from].join(" → ")}`,
      {
        hint: `remove one of these needs: ${cycle.map((e) => `${e.from} needs ${e.id}`).join("; ")}`,
        source: cycle[0]!.source,
      },
    );
  }
  let selected: ReadonlySet<string> = new Set(workflow.jobs.map((j) => j.id));
  if (options.job !== undefined) {
    const job = byLower.get(options.job.toLowerCase());
    if (job === undefined) {
      throw new SandboxedError(
        "SBX_ENGINE_UNKNOWN_JOB",
        `${workflow.file} has no job '${options.job}'`,
        { hint: `jobs in ${workflow.file}: ${workflow.jobs.map((j) => j.id).join(", ")}` },
      );
    }
    selected = new Set([job.id, ...ancestorsOf(workflow, job.id)]);
  }
  const stages: WorkflowJob[][] = [];
  const done = new Set<string>();
  let pending = workflow.jobs.filter((j) => selected.has(j.id));
  while (pending.length > 0) {
    const ready = pending.filter((j) =>
      j.needs.every((n) => done.has(byLower.get(n.id.toLowerCase())?.id ?? n.id)),
    );
    // Unreachable after findNeedsCycle, unless a need names no job (loadWorkflow rejects that).
    if (ready.length === 0) {
      const job = pending[0]!;
      throw new SandboxedError(
        "SBX_ENGINE_UNKNOWN_JOB",
        `job '${job.id}' needs a job that is not in ${workflow.file}`,
        {
          hint: `needs one of: ${workflow.jobs.map((j) => j.id).join(", ")}`,
          source: job.source,
        },
      );
    }
    for (const j of ready) done.add(j.id);
    stages.push(ready);
    pending = pending.filter((j) => !done.has(j.id));
  }
  return { stages, matrixFilter: options.matrixFilter };
}

/**
 * Every job `jobId` needs, directly or through other jobs, in file order. Job-level `failure()` is
 * true "if any ancestor job fails" (https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#failure).
 */
export function ancestorsOf(workflow: LoadedWorkflow, jobId: string): string[] {
  const byLower = new Map(workflow.jobs.map((j) => [j.id.toLowerCase(), j]));
  const seen = new Set<string>();
  const visit = (id: string): void => {
    for (const need of byLower.get(id.toLowerCase())?.needs ?? []) {
      const target = byLower.get(need.id.toLowerCase());
      if (target === undefined || seen.has(target.id)) continue;
      seen.add(target.id);
      visit(target.id);
    }
  };
  visit(jobId);
  return workflow.jobs.map((j) => j.id).filter((id) => seen.has(id));
}

/**
 * The first cycle in the needs graph, as the edges that form it, or undefined. Depth-first in file
 * order, so the same workflow always reports the same cycle. Needs match ids case-insensitively.
 */
export function findNeedsCycle(jobs: readonly NeedsNode[]): NeedsEdge[] | undefined {
  const byLower = new Map(jobs.map((j) => [j.id.toLowerCase(), j]));
  const state = new Map<string, "open" | "done">();
  const path: NeedsEdge[] = [];
  const visit = (job: NeedsNode): NeedsEdge[] | undefined => {
    state.set(job.id, "open");
    for (const need of job.needs) {
      const target = byLower.get(need.id.toLowerCase());
      if (target === undefined) continue;
      const edge = { from: job.id, id: target.id, source: need.source };
      if (state.get(target.id) === "open") {
        const start = path.findIndex((e) => e.from === target.id);
        return [...path.slice(start < 0 ? path.length : start), edge];
      }
      if (state.get(target.id) === "done") continue;
      path.push(edge);
      const found = visit(target);
      if (found) return found;
      path.pop();
    }
    state.set(job.id, "done");
    return undefined;
  };
  for (const job of jobs) {
    if (state.has(job.id)) continue;
    const found = visit(job);
    if (found) return found;
  }
  return undefined;
}
