/**
 * Finding jobs through the REST API: the reconcile loop's listing (so a lost webhook never
 * strands a job) and the one-job check before provisioning.
 */
import pLimit from "p-limit";
import { FIELD } from "../logs/index.js";
import { apiError, hasStatus } from "./errors.js";
import type { ClientState, Speaker } from "./auth.js";
import { jobFromRest } from "./map-job.js";
import { splitRepo } from "./repo-name.js";
import type { ReplySource } from "./reply-fields.js";
import { int, object, str } from "./reply-fields.js";
import type { Scope, WorkflowJob } from "./types.js";

/** Requests in flight per listing: enough to be quick, few against the secondary limits. */
const LISTING_CONCURRENCY = 4;

interface ScopedRepo {
  readonly repo: string;
  /** Known for an org's repositories; looked up per repository otherwise. */
  readonly speaker?: Speaker;
  readonly org?: string;
}

async function reposOf(state: ClientState, scope: Scope): Promise<ScopedRepo[]> {
  if ("repositories" in scope) return scope.repositories.map((repo) => ({ repo }));
  const org = scope.organization;
  const speaker = await state.auth.speakerFor({ org });
  // An installation token cannot list an org's repositories; it lists those it was granted.
  const [what, raw] =
    speaker.installationId === undefined
      ? [
          `GET /orgs/${org}/repos`,
          await speaker.octokit.paginate("GET /orgs/{org}/repos", { org, per_page: 100 }),
        ]
      : [
          "GET /installation/repositories",
          await speaker.octokit.paginate("GET /installation/repositories", { per_page: 100 }),
        ];
  const source: ReplySource = { kind: "rest", what };
  return (raw as unknown[])
    .map((item, i) => object(source, item, `repositories[${i}]`))
    .map((repo, i) => ({ json: repo, repo: str(source, repo, "full_name", `repositories[${i}]`) }))
    .filter(({ json, repo }) => !json.archived && !json.disabled && ownedBy(repo, org))
    .map(({ repo }) => ({ repo, speaker, org }));
}

function ownedBy(repo: string, org: string): boolean {
  return repo.toLowerCase().startsWith(`${org.toLowerCase()}/`);
}

async function runIds(speaker: Speaker, repo: string): Promise<number[]> {
  const { owner, repo: name } = splitRepo(repo);
  const ids = new Set<number>();
  // A run already in progress can still hold queued jobs (a later job, a matrix leg).
  for (const status of ["queued", "in_progress"] as const) {
    const source: ReplySource = {
      kind: "rest",
      what: `GET /repos/${repo}/actions/runs?status=${status}`,
    };
    const runs = await speaker.octokit.paginate("GET /repos/{owner}/{repo}/actions/runs", {
      owner,
      repo: name,
      status,
      per_page: 100,
    });
    (runs as unknown[]).forEach((run, i) => {
      ids.add(int(source, object(source, run, `workflow_runs[${i}]`), "id", `workflow_runs[${i}]`));
    });
  }
  return [...ids];
}

async function queuedJobsOfRun(
  scoped: ScopedRepo,
  speaker: Speaker,
  runId: number,
): Promise<WorkflowJob[]> {
  const { owner, repo } = splitRepo(scoped.repo);
  const what = `GET /repos/${scoped.repo}/actions/runs/${runId}/jobs`;
  const jobs = await speaker.octokit.paginate(
    "GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
    { owner, repo, run_id: runId, filter: "latest", per_page: 100 },
  );
  return (jobs as unknown[])
    .map((raw) =>
      jobFromRest(raw, {
        repo: scoped.repo,
        what,
        ...(speaker.installationId === undefined ? {} : { installationId: speaker.installationId }),
        ...(scoped.org === undefined ? {} : { org: scoped.org }),
      }),
    )
    .filter((job) => job.status === "queued");
}

/**
 * Queued jobs of the scope's queued and in-progress runs. A repository that fails (deleted, App
 * removed) is logged and skipped so the others are still served; when every one fails the first
 * error is thrown.
 */
export async function listQueuedJobs(state: ClientState, scope: Scope): Promise<WorkflowJob[]> {
  let repos: ScopedRepo[];
  try {
    repos = await reposOf(state, scope);
  } catch (error) {
    throw apiError(error, state.retries);
  }
  const limit = pLimit(LISTING_CONCURRENCY);
  const failures: unknown[] = [];
  const perRepo = await Promise.all(
    repos.map(async (scoped) => {
      try {
        const speaker = scoped.speaker ?? (await state.auth.speakerFor({ repo: scoped.repo }));
        const ids = await limit(() => runIds(speaker, scoped.repo));
        const jobs = await Promise.all(
          ids.map((id) => limit(() => queuedJobsOfRun(scoped, speaker, id))),
        );
        return jobs.flat();
      } catch (error) {
        const wrapped = apiError(error, state.retries);
        failures.push(wrapped);
        state.log.warn(
          { [FIELD.repo]: scoped.repo, [FIELD.err]: wrapped },
          "listing queued jobs failed for a repository",
        );
        return [];
      }
    }),
  );
  if (repos.length > 0 && failures.length === repos.length) throw failures[0];
  return perRepo.flat();
}

export async function getJob(
  state: ClientState,
  repo: string,
  jobId: number,
): Promise<WorkflowJob | undefined> {
  const speaker = await state.auth.speakerFor({ repo });
  try {
    const { data } = await speaker.octokit.request(
      "GET /repos/{owner}/{repo}/actions/jobs/{job_id}",
      {
        ...splitRepo(repo),
        job_id: jobId,
      },
    );
    return jobFromRest(data, {
      repo,
      what: `GET /repos/${repo}/actions/jobs/${jobId}`,
      ...(speaker.installationId === undefined ? {} : { installationId: speaker.installationId }),
    });
  } catch (error) {
    if (hasStatus(error, 404)) return undefined;
    throw apiError(error, state.retries);
  }
}
