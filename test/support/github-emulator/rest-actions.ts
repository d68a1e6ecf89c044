/**
 * Actions endpoints: workflow runs and jobs, self-hosted runners and JIT configs, for a
 * repository or an organization, as documented at docs.github.com/rest/actions (2022-11-28).
 */
import type { EmulatorContext } from "./context.js";
import { githubError, paginate } from "./server.js";
import type { Reply, Route, RouteRequest } from "./server.js";
import type { RepoRecord } from "./state.js";
import type { RunnerTarget } from "./types.js";

const notFound = githubError(404, "Not Found");

export function actionsRoutes(ctx: EmulatorContext): Route[] {
  const { state, shapes } = ctx;
  const repoOf = (r: RouteRequest): RepoRecord | undefined =>
    state.findRepo(r.params.owner!, r.params.repo!);
  /** `{repo}` for repository routes, `{org}` for organization ones; undefined if unknown. */
  const targetOf = (r: RouteRequest): RunnerTarget | undefined => {
    if (r.params.org !== undefined) {
      const repos = state.orgRepos(r.params.org);
      return repos.length === 0 ? undefined : { org: repos[0]!.owner };
    }
    const repo = repoOf(r);
    return repo === undefined ? undefined : { repo: repo.fullName };
  };
  const runnerOf = (r: RouteRequest) => {
    const target = targetOf(r);
    const id = Number(r.params.runner_id);
    if (target === undefined) return undefined;
    return state.runnersOf(target).find((x) => x.id === id);
  };

  const generateJitConfig = async (r: RouteRequest): Promise<Reply> => {
    const target = targetOf(r);
    if (target === undefined) return notFound;
    const body = r.body as {
      name: string;
      runner_group_id: number;
      labels: string[];
      work_folder?: string;
    };
    // Organizations have the "Default" group (id 1); repository runners always land in it.
    if ("org" in target && body.runner_group_id !== 1) return notFound;
    const runner = state.addRunner(target, {
      name: body.name,
      labels: body.labels,
      groupId: 1,
      workFolder: body.work_folder ?? "_work",
    });
    if (runner === "exists") {
      return githubError(
        409,
        `Already exists - A runner with the name ${body.name} already exists.`,
      );
    }
    return {
      status: 201,
      body: { runner: shapes.runner(runner), encoded_jit_config: await ctx.jitConfig(runner) },
    };
  };

  const listRunners = (r: RouteRequest): Reply => {
    const target = targetOf(r);
    if (target === undefined) return notFound;
    const name = r.query.get("name");
    const all = state.runnersOf(target).filter((x) => name === null || x.name === name);
    const { page, headers } = paginate(all, r.url);
    return {
      status: 200,
      headers,
      body: { total_count: all.length, runners: page.map(shapes.runner) },
    };
  };

  const getRunner = (r: RouteRequest): Reply => {
    const runner = runnerOf(r);
    return runner === undefined ? notFound : { status: 200, body: shapes.runner(runner) };
  };

  const deleteRunner = (r: RouteRequest): Reply => {
    const runner = runnerOf(r);
    if (runner === undefined) return notFound;
    if (state.deleteRunner(runner.id) === "busy") {
      return githubError(422, `Bad request - Runner "${runner.name}" is still running a job`);
    }
    return { status: 204 };
  };

  return [
    {
      method: "GET",
      path: "/repos/{owner}/{repo}/actions/runs",
      auth: "token",
      handler: (r) => {
        const repo = repoOf(r);
        if (repo === undefined) return notFound;
        const wanted = r.query.get("status");
        const runs = [...state.runs.values()]
          .filter((run) => run.repo === repo)
          .filter((run) => {
            if (wanted === null) return true;
            const { status, conclusion } = state.runStatus(run);
            return status === wanted || conclusion === wanted;
          })
          .sort((a, b) => b.id - a.id);
        const { page, headers } = paginate(runs, r.url);
        return {
          status: 200,
          headers,
          body: { total_count: runs.length, workflow_runs: page.map(shapes.workflowRun) },
        };
      },
    },
    {
      method: "GET",
      path: "/repos/{owner}/{repo}/actions/runs/{run_id}",
      auth: "token",
      handler: (r) => {
        const run = state.runs.get(Number(r.params.run_id));
        if (run === undefined || run.repo !== repoOf(r)) return notFound;
        return { status: 200, body: shapes.workflowRun(run) };
      },
    },
    {
      method: "GET",
      path: "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
      auth: "token",
      handler: (r) => {
        const run = state.runs.get(Number(r.params.run_id));
        if (run === undefined || run.repo !== repoOf(r)) return notFound;
        const jobs = run.jobIds.map((id) => state.jobs.get(id)!);
        const { page, headers } = paginate(jobs, r.url);
        return {
          status: 200,
          headers,
          body: { total_count: jobs.length, jobs: page.map(shapes.job) },
        };
      },
    },
    {
      method: "GET",
      path: "/repos/{owner}/{repo}/actions/jobs/{job_id}",
      auth: "token",
      handler: (r) => {
        const job = state.jobs.get(Number(r.params.job_id));
        if (job === undefined || job.run.repo !== repoOf(r)) return notFound;
        return { status: 200, body: shapes.job(job) };
      },
    },
    ...(["/repos/{owner}/{repo}", "/orgs/{org}"] as const).flatMap((prefix): Route[] => [
      {
        method: "POST",
        path: `${prefix}/actions/runners/generate-jitconfig`,
        auth: "token",
        handler: generateJitConfig,
      },
      { method: "GET", path: `${prefix}/actions/runners`, auth: "token", handler: listRunners },
      {
        method: "GET",
        path: `${prefix}/actions/runners/{runner_id}`,
        auth: "token",
        handler: getRunner,
      },
      {
        method: "DELETE",
        path: `${prefix}/actions/runners/{runner_id}`,
        auth: "token",
        handler: deleteRunner,
      },
    ]),
  ];
}
