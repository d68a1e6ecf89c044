/**
 * GitHub's default environment variables for a step.
 *
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/variables#default-environment-variables
 * They are not in the `env` context. "You can't overwrite the value of the default environment
 * variables named GITHUB_* and RUNNER_*" (CI may be overwritten): the job runner applies this object
 * over the workflow's `env:`, except CI.
 */

export interface DefaultEnvInput {
  /** `GITHUB_WORKSPACE` as the step sees it (guest path). */
  readonly workspace: string;
  readonly runnerTemp: string;
  readonly toolCache: string;
  readonly eventName: string;
  /** Path of the event payload JSON inside the guest. */
  readonly eventPath: string;
  readonly sha: string;
  /** Fully qualified: `refs/heads/main`, `refs/tags/v1`, `refs/pull/7/merge`. */
  readonly ref: string;
  /** `owner/name`. */
  readonly repository: string;
  readonly repositoryOwner: string;
  readonly actor: string;
  readonly runId: string | number;
  readonly runNumber: string | number;
  readonly runAttempt: string | number;
  /** The workflow's `name:`, or its file path when unnamed. */
  readonly workflow: string;
  /** `owner/repo/.github/workflows/ci.yml@refs/heads/main`. */
  readonly workflowRef: string;
  /** The job id (the key under `jobs:`). */
  readonly job: string;
  /** Step id, or `__run`, `__run_2`, `__owner_repo` … as GitHub names unnamed steps. */
  readonly action: string;
  readonly serverUrl: string;
  readonly apiUrl: string;
  readonly graphqlUrl: string;
  readonly runnerName: string;
  readonly runnerOs: "Linux";
  readonly runnerArch: "X64" | "ARM64";
  /** Pull request events only; GitHub sets the variable to '' otherwise. */
  readonly headRef?: string;
  readonly baseRef?: string;
  /** Per-step environment files (guest paths). */
  readonly envFile: string;
  readonly outputFile: string;
  readonly pathFile: string;
  readonly stateFile: string;
  readonly summaryFile: string;
  /** Debug logging on (`ACTIONS_RUNNER_DEBUG`/re-run with debug): sets `RUNNER_DEBUG=1`. */
  readonly debug: boolean;
  // Values GitHub sets that a runner outside GitHub may not know; each is left out when absent.
  readonly actorId?: string | number;
  readonly repositoryId?: string | number;
  readonly repositoryOwnerId?: string | number;
  /** Defaults to `actor`. */
  readonly triggeringActor?: string;
  /** Commit of the workflow file; defaults to `sha`, which it equals unless the workflow comes from elsewhere. */
  readonly workflowSha?: string;
  readonly refProtected?: boolean;
  readonly retentionDays?: number;
  /** Set for steps of an action: its folder and `owner/repo`. */
  readonly actionPath?: string;
  readonly actionRepository?: string;
}

export type RefType = "branch" | "tag" | "";

/**
 * `GITHUB_REF_NAME` and `GITHUB_REF_TYPE` from a ref: `refs/heads/x` → branch `x`, `refs/tags/x`
 * → tag `x`, `refs/pull/7/merge` → branch `7/merge` (the docs' "<pr_number>/merge"). Any other ref
 * keeps its full text with type '' (the docs list only branch and tag).
 */
export function refNameAndType(ref: string): { readonly name: string; readonly type: RefType } {
  for (const [prefix, type] of [
    ["refs/heads/", "branch"],
    ["refs/tags/", "tag"],
    ["refs/pull/", "branch"],
  ] as const) {
    if (ref.startsWith(prefix) && ref.length > prefix.length) {
      return { name: ref.slice(prefix.length), type };
    }
  }
  return { name: ref, type: "" };
}

/**
 * The default environment for one step, keys in the docs' order. Values are strings; optional
 * inputs that are absent leave their variable out. Adds `RUNNER_ENVIRONMENT=self-hosted` (what
 * GitHub reports for self-hosted runners) and `SANDBOXED=true` so a script can tell where it runs.
 */
export function defaultEnvironment(input: DefaultEnvInput): Readonly<Record<string, string>> {
  const { name: refName, type: refType } = refNameAndType(input.ref);
  const optional = (name: string, value: string | number | boolean | undefined) =>
    value === undefined ? [] : [[name, String(value)] as const];
  const entries: ReadonlyArray<readonly [string, string]> = [
    ["CI", "true"],
    ["GITHUB_ACTION", input.action],
    ...optional("GITHUB_ACTION_PATH", input.actionPath),
    ...optional("GITHUB_ACTION_REPOSITORY", input.actionRepository),
    ["GITHUB_ACTIONS", "true"],
    ["GITHUB_ACTOR", input.actor],
    ...optional("GITHUB_ACTOR_ID", input.actorId),
    ["GITHUB_API_URL", input.apiUrl],
    ["GITHUB_BASE_REF", input.baseRef ?? ""],
    ["GITHUB_ENV", input.envFile],
    ["GITHUB_EVENT_NAME", input.eventName],
    ["GITHUB_EVENT_PATH", input.eventPath],
    ["GITHUB_GRAPHQL_URL", input.graphqlUrl],
    ["GITHUB_HEAD_REF", input.headRef ?? ""],
    ["GITHUB_JOB", input.job],
    ["GITHUB_OUTPUT", input.outputFile],
    ["GITHUB_PATH", input.pathFile],
    ["GITHUB_REF", input.ref],
    ["GITHUB_REF_NAME", refName],
    ...optional("GITHUB_REF_PROTECTED", input.refProtected),
    ["GITHUB_REF_TYPE", refType],
    ["GITHUB_REPOSITORY", input.repository],
    ...optional("GITHUB_REPOSITORY_ID", input.repositoryId),
    ["GITHUB_REPOSITORY_OWNER", input.repositoryOwner],
    ...optional("GITHUB_REPOSITORY_OWNER_ID", input.repositoryOwnerId),
    ...optional("GITHUB_RETENTION_DAYS", input.retentionDays),
    ["GITHUB_RUN_ATTEMPT", String(input.runAttempt)],
    ["GITHUB_RUN_ID", String(input.runId)],
    ["GITHUB_RUN_NUMBER", String(input.runNumber)],
    ["GITHUB_SERVER_URL", input.serverUrl],
    ["GITHUB_SHA", input.sha],
    // Not in the docs' list, but the runner sets it for the GITHUB_STATE file command.
    ["GITHUB_STATE", input.stateFile],
    ["GITHUB_STEP_SUMMARY", input.summaryFile],
    ["GITHUB_TRIGGERING_ACTOR", input.triggeringActor ?? input.actor],
    ["GITHUB_WORKFLOW", input.workflow],
    ["GITHUB_WORKFLOW_REF", input.workflowRef],
    ["GITHUB_WORKFLOW_SHA", input.workflowSha ?? input.sha],
    ["GITHUB_WORKSPACE", input.workspace],
    ["RUNNER_ARCH", input.runnerArch],
    // "set only if debug logging is enabled, and always has the value of 1".
    ...(input.debug ? [["RUNNER_DEBUG", "1"] as const] : []),
    ["RUNNER_ENVIRONMENT", "self-hosted"],
    ["RUNNER_NAME", input.runnerName],
    ["RUNNER_OS", input.runnerOs],
    ["RUNNER_TEMP", input.runnerTemp],
    ["RUNNER_TOOL_CACHE", input.toolCache],
    ["SANDBOXED", "true"],
  ];
  return Object.freeze(Object.fromEntries(entries));
}
