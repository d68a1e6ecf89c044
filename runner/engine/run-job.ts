/**
 * One job instance (a job, or one matrix combination) in one fresh sandbox: the contexts it sees,
 * the files the sandbox starts with (working tree, actions, event payload), the driver that runs
 * its steps, and the report: steps, outputs, annotations, summary, and the sandbox's own report.
 */
import path from "node:path";
import type {
  JobControl,
  JobSpec,
  Sandbox,
  SandboxEvent,
  SandboxReport,
} from "../sandbox/index.js";
import { writtenText } from "./block-scalar.js";
import { runCompositeSteps } from "./composite.js";
import { compositeSteps } from "./composite-steps.js";
import { defaultEnvironment } from "./default-env.js";
import { coerceToString, evaluateToken } from "./expressions.js";
import type { EvaluateOptions } from "./expressions.js";
import type { GuestLayout } from "./guest-layout.js";
import type { ContextBase, JobScope } from "./job-env.js";
import { contextsFor, evaluateEnv } from "./job-env.js";
import { runJobSteps } from "./job-runner.js";
import type { JobStepsResult, StepRunner } from "./job-runner.js";
import { createMasker } from "./masker.js";
import type { PreparedActions } from "./prepare-actions.js";
import { createStepRunner, preStepOf } from "./step-kinds.js";
import type { EngineEvent, JobReport } from "./types.js";
import type { JobInstance } from "./workflow-runner.js";
import type { LoadedWorkflow, WorkflowStep } from "./workflow.js";

export interface RepoFacts {
  readonly root: string;
  readonly repository: string;
  readonly sha: string;
  readonly ref: string;
  readonly actor: string;
  /** The files a checkout holds (tracked and not ignored); undefined: copy the whole folder. */
  readonly files: readonly string[] | undefined;
  readonly hasGitDir: boolean;
}

export interface JobRunnerDeps {
  readonly workflow: LoadedWorkflow;
  readonly repo: RepoFacts;
  readonly layout: GuestLayout;
  readonly event: { readonly name: string; readonly payload: unknown };
  readonly vars: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** --env-file: under the workflow's own env. */
  readonly env: Readonly<Record<string, string>>;
  readonly actions: PreparedActions;
  readonly runId: number;
  readonly debug: boolean;
  readonly hashFiles: (patterns: readonly string[]) => string;
  readonly createSandbox: (
    instance: JobInstance,
    onEvent: (event: SandboxEvent) => void,
  ) => Sandbox;
  readonly emit: (event: EngineEvent) => void;
  readonly now: () => number;
}

function prField(payload: unknown, side: "head" | "base"): string {
  const pr = (payload as { pull_request?: Record<string, { ref?: unknown }> } | null)?.pull_request;
  const ref = pr?.[side]?.ref;
  return typeof ref === "string" ? ref : "";
}

export function githubContext(deps: JobRunnerDeps, job: string): Record<string, unknown> {
  const { repo, layout, event, workflow } = deps;
  const owner = repo.repository.split("/")[0] ?? "";
  const refName = repo.ref.replace(/^refs\/(heads|tags)\//, "");
  return {
    event_name: event.name,
    event: event.payload,
    event_path: layout.eventPath,
    sha: repo.sha,
    ref: repo.ref,
    ref_name: refName,
    ref_type: repo.ref.startsWith("refs/tags/") ? "tag" : "branch",
    repository: repo.repository,
    repository_owner: owner,
    actor: repo.actor,
    triggering_actor: repo.actor,
    workspace: layout.workspace,
    job,
    run_id: String(deps.runId),
    run_number: "1",
    run_attempt: "1",
    workflow: workflow.name ?? workflow.file,
    workflow_ref: `${repo.repository}/${workflow.file}@${repo.ref}`,
    workflow_sha: repo.sha,
    server_url: "https://github.com",
    api_url: "https://api.github.com",
    graphql_url: "https://api.github.com/graphql",
    retention_days: "90",
    // Pull request events only, as on GitHub.
    head_ref: prField(event.payload, "head"),
    base_ref: prField(event.payload, "base"),
    token: deps.secrets.GITHUB_TOKEN ?? "",
    action: "",
  };
}

export function createJobInstanceRunner(deps: JobRunnerDeps) {
  return async (instance: JobInstance, signal: AbortSignal): Promise<JobReport> => {
    const { job } = instance;
    const { layout, workflow, emit } = deps;
    const label = instance.name;
    const masker = createMasker();
    for (const value of Object.values(deps.secrets)) masker.add(value);
    const github = githubContext(deps, job.id);
    const runner = {
      os: "Linux",
      arch: "X64",
      name: "sandboxed",
      temp: layout.temp,
      tool_cache: layout.toolCache,
      debug: deps.debug ? "1" : "",
      environment: "self-hosted",
    };
    const base: ContextBase = {
      github,
      vars: deps.vars,
      secrets: deps.secrets,
      inputs: deps.inputs,
      matrix: instance.matrix,
      strategy: instance.strategy,
      needs: instance.needs,
      runner,
      job: {},
    };
    const evalOptions: EvaluateOptions = { file: workflow.file, hashFiles: deps.hashFiles };
    const scope: JobScope = { env: { ...deps.env }, path: [], steps: {}, status: "success" };
    let stepsResult: JobStepsResult | undefined;
    let error: string | undefined;
    try {
      Object.assign(scope.env, evaluateEnv(workflow.env, contextsFor(base, scope), evalOptions));
      Object.assign(scope.env, evaluateEnv(job.env, contextsFor(base, scope), evalOptions));
    } catch (e) {
      error = (e as Error).message;
    }
    const defaultEnv = (action: string, extra: Record<string, string> = {}) => ({
      ...defaultEnvironment({
        workspace: layout.workspace,
        runnerTemp: layout.temp,
        toolCache: layout.toolCache,
        eventName: deps.event.name,
        eventPath: layout.eventPath,
        sha: deps.repo.sha,
        ref: deps.repo.ref,
        repository: deps.repo.repository,
        repositoryOwner: deps.repo.repository.split("/")[0] ?? "",
        actor: deps.repo.actor,
        runId: deps.runId,
        runNumber: 1,
        runAttempt: 1,
        workflow: workflow.name ?? workflow.file,
        workflowRef: String(github.workflow_ref),
        job: job.id,
        action,
        serverUrl: String(github.server_url),
        apiUrl: String(github.api_url),
        graphqlUrl: String(github.graphql_url),
        runnerName: "sandboxed",
        runnerOs: "Linux",
        runnerArch: "X64",
        envFile: "",
        outputFile: "",
        pathFile: "",
        stateFile: "",
        summaryFile: "",
        debug: deps.debug,
        headRef: String(github.head_ref),
        baseRef: String(github.base_ref),
        ...(extra.GITHUB_ACTION_PATH ? { actionPath: extra.GITHUB_ACTION_PATH } : {}),
        ...(extra.GITHUB_ACTION_REPOSITORY
          ? { actionRepository: extra.GITHUB_ACTION_REPOSITORY }
          : {}),
      }),
      ...extra,
    });
    // eslint-disable-next-line prefer-const
    let runStep: StepRunner;
    const kindOptions = {
      layout,
      actions: deps.actions.actions,
      defaults: [job.defaults, workflow.defaults],
      commandOptions: {
        stepDebug: deps.debug,
        workspace: layout.workspace,
        ...(scope.env.ACTIONS_ALLOW_UNSECURE_COMMANDS === "true"
          ? { allowUnsecureCommands: true }
          : {}),
      },
      defaultEnv,
      sha: deps.repo.sha,
      savedState: new Map<string, Record<string, string>>(),
      runComposite: (
        action: Parameters<typeof runCompositeSteps>[0],
        inputs: Record<string, string>,
        ctx: Parameters<typeof runCompositeSteps>[3],
      ) => runCompositeSteps(action, compositeSteps(action.metadata), inputs, ctx, runStep),
    };
    const stepRunner = createStepRunner(kindOptions);
    runStep = stepRunner;

    let stepsStarted: number | undefined;
    let stepsEnded: number | undefined;
    const spec: JobSpec = {
      steps: [],
      directories: [
        {
          source: deps.repo.root,
          path: layout.workspaceRel,
          ...(deps.repo.files ? { only: [...deps.repo.files] } : {}),
        },
        ...(deps.repo.files && deps.repo.hasGitDir
          ? [{ source: path.join(deps.repo.root, ".git"), path: `${layout.workspaceRel}/.git` }]
          : []),
        ...deps.actions.directories,
      ],
      files: [
        {
          path: layout.eventRel,
          content: new TextEncoder().encode(JSON.stringify(deps.event.payload, null, 2)),
        },
      ],
      drive: async (control: JobControl) => {
        stepsStarted = deps.now();
        if (error) return "failure";
        stepsResult = await runJobSteps(
          {
            job: label,
            steps: job.steps as readonly WorkflowStep[],
            base,
            scope,
            masker,
            evalOptions,
            runStep,
            preOf: (step) => preStepOf(kindOptions, step),
            defaultName: (s) =>
              s.kind === "run"
                ? `Run ${(writtenText(s.run).trim().split("\n")[0] ?? "").slice(0, 80)}`
                : `Run ${s.uses}`,
            emit,
            now: deps.now,
          },
          control,
          signal,
        );
        stepsEnded = deps.now();
        return scope.status === "success" ? "success" : "failure";
      },
    };

    emit({ type: "job-start", job: label, policy: "" });
    // A secret in a host name (`$TOKEN.evil.example`) must not reach the log in clear either.
    const maskDecision = <T extends { host: string }>(d: T): T => ({
      ...d,
      host: masker.redact(d.host),
    });
    const box = deps.createSandbox(instance, (event) => {
      if (event.type === "output" || event.type === "console") return;
      emit({
        type: "sandbox",
        job: label,
        event:
          event.type === "egress" ? { ...event, decision: maskDecision(event.decision) } : event,
      });
    });
    const started = deps.now();
    let sandbox: SandboxReport | undefined;
    try {
      sandbox = await box.run(spec);
    } catch (e) {
      // The sandbox could not be made (say, the tree does not fit its disk): this job fails, the
      // others go on, and nothing is left behind (destroy below).
      error ??= (e as Error).message;
    } finally {
      await box.destroy();
    }
    if (sandbox?.egress)
      sandbox = {
        ...sandbox,
        egress: { ...sandbox.egress, decisions: sandbox.egress.decisions.map(maskDecision) },
      };
    const ended = deps.now();
    stepsEnded ??= ended;
    const outputs: Record<string, string> = {};
    const annotations = [...(stepsResult?.annotations ?? [])];
    if (job.outputs && stepsResult) {
      try {
        const value = evaluateToken(job.outputs, contextsFor(base, scope), evalOptions);
        for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
          const text = coerceToString(v);
          if (masker.redact(text) === text) {
            outputs[k] = text;
            continue;
          }
          // The runner drops an output holding a secret or masked value (JobExtension.cs), with
          // its words: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idoutputs
          const warning = {
            level: "warning",
            message: `Skip output '${k}' since it may contain secret.`,
            origin: "runner",
          } as const;
          annotations.push(warning);
          emit({ type: "annotation", job: label, annotation: warning });
        }
      } catch (e) {
        error ??= (e as Error).message;
      }
    }
    const failed =
      error !== undefined || sandbox?.outcome !== "success" || scope.status !== "success";
    const continueOnError =
      typeof job.continueOnError === "boolean"
        ? job.continueOnError
        : Boolean(evaluateToken(job.continueOnError, contextsFor(base, scope), evalOptions));
    const report: JobReport = {
      name: label,
      id: job.id,
      ...(Object.keys(instance.matrix).length ? { matrix: instance.matrix } : {}),
      result: signal.aborted ? "cancelled" : failed && !continueOnError ? "failure" : "success",
      steps: stepsResult?.steps ?? [],
      outputs,
      annotations,
      summary: stepsResult?.summary ?? "",
      ...(sandbox ? { sandbox } : {}),
      timings: {
        ...(stepsStarted === undefined ? {} : { bootMs: stepsStarted - started }),
        stepsMs: stepsStarted === undefined ? 0 : stepsEnded - stepsStarted,
        teardownMs: ended - (stepsStarted === undefined ? ended : stepsEnded),
        totalMs: ended - started,
      },
      ...((error ?? sandbox?.error) ? { error: masker.redact(error ?? sandbox?.error ?? "") } : {}),
    };
    emit({ type: "job-end", job: label, report });
    return report;
  };
}
