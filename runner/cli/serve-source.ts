/**
 * The scheduler's job source, made of the GitHub client: where runners register (the repository,
 * or the organization for an org scope), what counts as still queued, and how a result is told
 * (a check run as an App, a commit status with a token).
 */
import type { GithubClient, Scope, Target, WorkflowJob } from "../github/index.js";
import type { JobResult, JobSource, SourceJob } from "../scheduler/index.js";

export function sourceJobOf(job: WorkflowJob, scope: Scope): SourceJob {
  const org = "organization" in scope ? scope.organization : undefined;
  return {
    id: job.id,
    repo: job.repo,
    runId: job.runId,
    runAttempt: job.runAttempt,
    name: job.name,
    workflowName: job.workflowName,
    labels: job.labels,
    headSha: job.headSha,
    htmlUrl: job.htmlUrl,
    ...(org ? { org } : {}),
  };
}

function targetOf(job: SourceJob): Target {
  return job.org ? { org: job.org } : { repo: job.repo };
}

const CONCLUSION = {
  success: "success",
  failure: "failure",
  limit: "failure",
  infrastructure: "failure",
  refused: "failure",
  cancelled: "cancelled",
  idle: "cancelled",
} as const;

export function githubJobSource(
  client: GithubClient,
  scope: Scope,
  options: { readonly runnerGroupId: number; readonly app: boolean },
): JobSource {
  const targets = (): Target[] =>
    "organization" in scope
      ? [{ org: scope.organization }]
      : scope.repositories.map((repo) => ({ repo }));
  const someJob = (target: Target): SourceJob => ({
    id: 0,
    repo: "repo" in target ? target.repo : `${target.org}/`,
    runId: 0,
    runAttempt: 1,
    name: "",
    workflowName: "",
    labels: [],
    headSha: "",
    htmlUrl: "",
    ...("org" in target ? { org: target.org } : {}),
  });
  return {
    listQueued: async () =>
      (await client.listQueuedJobs(scope)).map((job) => sourceJobOf(job, scope)),
    isQueued: async (job) => (await client.getJob(job.repo, job.id))?.status === "queued",
    createRunner: (job, runner) =>
      client.generateJitConfig(targetOf(job), {
        name: runner.name,
        labels: runner.labels,
        runnerGroupId: options.runnerGroupId,
      }),
    deleteRunner: (job, runnerId) => client.deleteRunner(targetOf(job), runnerId),
    async listRunners(prefix) {
      const found = [];
      for (const target of targets()) {
        for (const runner of await client.listRunners(target, { namePrefix: prefix }))
          found.push({ ...runner, job: someJob(target) });
      }
      return found;
    },
    report: (job: SourceJob, result: JobResult) =>
      client.reportJob(job.repo, job.headSha, {
        name: `sandboxed: ${job.name}`,
        conclusion: CONCLUSION[result.outcome],
        title: result.title,
        summary: result.summary,
        ...(job.htmlUrl ? { detailsUrl: job.htmlUrl } : {}),
      }),
    ...(options.app ? { redeliver: (since: number) => client.redeliverFailed(since) } : {}),
  };
}
