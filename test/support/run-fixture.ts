/**
 * Runs a whole workflow the way `sandboxed run` composes the engine (runner/cli/run-command.ts):
 * loadWorkflow → planJobs → prepareActions → runWorkflow with createJobInstanceRunner, but each
 * job in the host stand-in sandbox (host-sandbox.ts, TEST-ONLY) instead of a VM. The workflow and
 * any action files are written into a fresh temporary repository folder.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createJobInstanceRunner,
  guestLayout,
  hashFilesOnHost,
  loadWorkflow,
  planJobs,
  prepareActions,
  runWorkflow,
} from "../../runner/engine/index.js";
import type {
  ActionCache,
  EngineEvent,
  JobReport,
  RunReport,
  WorkflowStep,
} from "../../runner/engine/index.js";
import { createHostSandbox } from "./host-sandbox.js";

export const REPO = {
  repository: "octo/hello",
  sha: "0123456789abcdef0123456789abcdef01234567",
  ref: "refs/heads/main",
  actor: "octocat",
} as const;
export const WORKFLOW_FILE = ".github/workflows/ci.yml";
export const WORKSPACE = "/sandbox/work/hello/hello";

export interface Fixture {
  /** The workflow's YAML, written to .github/workflows/ci.yml. */
  readonly workflow: string;
  /** More files of the repository: path → content (a `.sh`/`.js` under bin/ gets mode 755). */
  readonly files?: Readonly<Record<string, string>>;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly vars?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly event?: { readonly name: string; readonly payload: unknown };
  /** `--job`. */
  readonly job?: string;
  /** `--matrix k=v`. */
  readonly matrixFilter?: Readonly<Record<string, string>>;
  readonly cache?: ActionCache;
  readonly maxParallel?: number;
  /** Called for every sandbox created, before it runs. */
  readonly onSandbox?: (job: string) => void;
  /** Cancels the run (Ctrl-C). */
  readonly signal?: AbortSignal;
}

export interface FixtureRun {
  readonly report: RunReport;
  readonly events: readonly EngineEvent[];
  /** The report of the job (or matrix combination) with this display name. */
  job(name: string): JobReport;
  /** The `line` texts of one job, in order; of one step when `step` is given. */
  lines(job: string, step?: number): string[];
  /** The step's outputs, outcome and conclusion as the `steps` context would show them. */
  step(job: string, id: string): JobReport["steps"][number];
}

export async function runFixture(fixture: Fixture): Promise<FixtureRun> {
  const root = await mkdtemp(path.join(tmpdir(), "sbx-run-fixture-"));
  try {
    await writeRepo(root, fixture);
    return await runIn(root, fixture);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function writeRepo(root: string, fixture: Fixture): Promise<void> {
  const files = { [WORKFLOW_FILE]: fixture.workflow, ...(fixture.files ?? {}) };
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content, { mode: rel.startsWith("bin/") ? 0o755 : 0o644 });
  }
}

async function runIn(root: string, fixture: Fixture): Promise<FixtureRun> {
  const workflow = await loadWorkflow(WORKFLOW_FILE, fixture.workflow);
  const plan = planJobs(workflow, {
    ...(fixture.job === undefined ? {} : { job: fixture.job }),
    ...(fixture.matrixFilter === undefined ? {} : { matrixFilter: fixture.matrixFilter }),
  });
  const layout = guestLayout(REPO.repository);
  const usesOf = (steps: readonly WorkflowStep[]) =>
    steps.flatMap((s) => (s.kind === "uses" ? [s.action] : []));
  const prepared = await prepareActions(
    plan.stages.flat().flatMap((j) => usesOf(j.steps)),
    { repoRoot: root, layout, cache: fixture.cache },
  );
  const events: EngineEvent[] = [];
  const emit = (event: EngineEvent): void => {
    events.push(event);
  };
  // A counter, not the wall clock (STYLE H14): durations are not what these tests check.
  let tick = 0;
  const now = () => tick++;
  const secrets = fixture.secrets ?? {};
  const vars = fixture.vars ?? {};
  const event = fixture.event ?? { name: "push", payload: { ref: REPO.ref } };
  const report = await runWorkflow({
    workflow,
    plan,
    contexts: { github: { event_name: event.name }, vars, secrets, inputs: {} },
    maxParallel: fixture.maxParallel ?? 4,
    evalOptions: { file: workflow.file },
    emit,
    now,
    ...(fixture.signal === undefined ? {} : { signal: fixture.signal }),
    runJob: createJobInstanceRunner({
      workflow,
      repo: { root, ...REPO, files: undefined, hasGitDir: false },
      layout,
      event,
      vars,
      secrets,
      inputs: {},
      env: fixture.env ?? {},
      actions: prepared,
      runId: 4242,
      debug: false,
      hashFiles: (patterns) => hashFilesOnHost(root, patterns),
      emit,
      now,
      createSandbox: (instance, onEvent) => {
        fixture.onSandbox?.(instance.name);
        return createHostSandbox({ onEvent });
      },
    }),
  });
  const job = (name: string): JobReport => {
    const found = report.jobs.find((j) => j.name === name);
    if (!found) throw new Error(`no job '${name}' in ${report.jobs.map((j) => j.name).join(", ")}`);
    return found;
  };
  return {
    report,
    events,
    job,
    lines: (name, step) =>
      events.flatMap((e) =>
        e.type === "line" && e.job === name && (step === undefined || e.index === step)
          ? [e.text]
          : [],
      ),
    step: (name, id) => {
      const found = job(name).steps.find((s) => s.id === id);
      if (!found) throw new Error(`no step '${id}' in job '${name}'`);
      return found;
    },
  };
}

/** The lines a step printed itself: without the `##[group]Run …` header the engine writes. */
export function printed(lines: readonly string[]): string[] {
  let inHeader = false;
  return lines.filter((l) => {
    if (l.startsWith("##[group]Run ")) inHeader = true;
    const keep = !inHeader;
    if (l === "##[endgroup]" && inHeader) inHeader = false;
    return keep;
  });
}

/** The job's lines of the step with this id (its index in the report), without the header. */
export function stepLines(run: FixtureRun, job: string, id: string): string[] {
  return printed(
    run.lines(
      job,
      run.job(job).steps.findIndex((s) => s.id === id),
    ),
  );
}
