/**
 * Repository endpoints: the repository, file contents, check runs, commit statuses, and the
 * repository lists of an organization and of an App installation.
 */
import type { EmulatorContext } from "./context.js";
import { githubError, paginate } from "./server.js";
import type { Reply, Route, RouteRequest } from "./server.js";
import type { CheckRunRecord, RepoRecord } from "./state.js";

const notFound = githubError(404, "Not Found");

interface CheckRunBody {
  name?: string;
  head_sha?: string;
  status?: string;
  conclusion?: string;
  details_url?: string;
  external_id?: string;
  completed_at?: string;
  output?: {
    title?: string;
    summary?: string;
    text?: string;
    annotations?: Record<string, unknown>[];
  };
}

export function repoRoutes(ctx: EmulatorContext): Route[] {
  const { state, shapes } = ctx;
  const repoOf = (r: RouteRequest): RepoRecord | undefined =>
    state.findRepo(r.params.owner!, r.params.repo!);

  /** Applies a create/update body to a check run, as GitHub does (a conclusion completes it). */
  const applyCheck = (check: CheckRunRecord, body: CheckRunBody) => {
    if (body.name !== undefined) check.name = body.name;
    if (body.details_url !== undefined) check.detailsUrl = body.details_url;
    if (body.external_id !== undefined) check.externalId = body.external_id;
    if (body.status !== undefined) check.status = body.status;
    if (body.conclusion !== undefined) {
      check.conclusion = body.conclusion;
      check.status = "completed";
    }
    if (check.status === "completed") {
      check.completedAt =
        body.completed_at === undefined ? state.now() : Date.parse(body.completed_at);
    }
    if (body.output !== undefined) {
      const { annotations, ...text } = body.output;
      check.output = { ...check.output, ...text };
      check.annotations.push(...(annotations ?? []));
    }
  };

  return [
    {
      method: "GET",
      path: "/repos/{owner}/{repo}",
      auth: "token",
      handler: (r) => {
        const repo = repoOf(r);
        return repo === undefined ? notFound : { status: 200, body: shapes.fullRepository(repo) };
      },
    },
    {
      method: "GET",
      path: "/repos/{owner}/{repo}/contents/{path}",
      auth: "token",
      handler: (r): Reply => {
        const repo = repoOf(r);
        if (repo === undefined) return notFound;
        const ref = r.query.get("ref") ?? repo.defaultBranch;
        if (ref !== repo.defaultBranch)
          return githubError(404, `No commit found for the ref ${ref}`);
        const path = r.params.path!.replace(/^\/+|\/+$/g, "");
        const content = repo.files.get(path);
        if (content === undefined) return notFound;
        if (/application\/vnd\.github(\.v3)?\.raw/.test(r.headers.accept ?? "")) {
          return {
            status: 200,
            text: { contentType: "application/vnd.github.raw; charset=utf-8", content },
          };
        }
        return { status: 200, body: shapes.contentFile(repo, path, content, ref) };
      },
    },
    {
      method: "POST",
      path: "/repos/{owner}/{repo}/check-runs",
      auth: "token",
      handler: (r) => {
        const repo = repoOf(r);
        if (repo === undefined) return notFound;
        // Only GitHub Apps may write check runs; a personal token gets this 403.
        if (r.auth.kind !== "installation")
          return githubError(403, "You must authenticate via a GitHub App.");
        const body = r.body as CheckRunBody;
        const check: CheckRunRecord = {
          id: state.nextId(),
          repo,
          headSha: body.head_sha!,
          name: body.name!,
          status: "queued",
          conclusion: null,
          detailsUrl: null,
          externalId: null,
          startedAt: state.now(),
          completedAt: null,
          output: {},
          annotations: [],
        };
        applyCheck(check, body);
        state.checkRuns.push(check);
        state.changed();
        return { status: 201, body: shapes.checkRun(check) };
      },
    },
    ...(["GET", "PATCH"] as const).map((method): Route => ({
      method,
      path: "/repos/{owner}/{repo}/check-runs/{check_run_id}",
      auth: "token",
      handler: (r) => {
        const repo = repoOf(r);
        const check = state.checkRuns.find((c) => c.id === Number(r.params.check_run_id));
        if (repo === undefined || check === undefined || check.repo !== repo) return notFound;
        if (method === "PATCH") {
          if (r.auth.kind !== "installation")
            return githubError(403, "You must authenticate via a GitHub App.");
          applyCheck(check, r.body as CheckRunBody);
          state.changed();
        }
        return { status: 200, body: shapes.checkRun(check) };
      },
    })),
    {
      method: "POST",
      path: "/repos/{owner}/{repo}/statuses/{sha}",
      auth: "token",
      handler: (r): Reply => {
        const repo = repoOf(r);
        if (repo === undefined) return notFound;
        const body = r.body as {
          state: string;
          target_url?: string | null;
          description?: string | null;
          context?: string;
        };
        if ((body.description ?? "").length > 140) {
          const message = "description is too long (maximum is 140 characters)";
          return {
            status: 422,
            body: {
              message: "Validation Failed",
              errors: [{ resource: "Status", code: "custom", field: "description", message }],
              documentation_url:
                "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
              status: "422",
            },
          };
        }
        const status = {
          id: state.nextId(),
          repo,
          sha: r.params.sha!,
          state: body.state,
          context: body.context ?? "default",
          description: body.description ?? null,
          targetUrl: body.target_url ?? null,
          createdAt: state.now(),
        };
        state.statuses.push(status);
        state.changed();
        const location = `${ctx.apiUrl()}/repos/${repo.fullName}/statuses/${status.sha}`;
        return { status: 201, headers: { location }, body: shapes.status(status) };
      },
    },
    {
      method: "GET",
      path: "/orgs/{org}/repos",
      auth: "token",
      handler: (r) => {
        const repos = state.orgRepos(r.params.org!);
        if (repos.length === 0) return notFound;
        const { page, headers } = paginate(repos, r.url);
        return { status: 200, headers, body: page.map(shapes.minimalRepository) };
      },
    },
    {
      method: "GET",
      path: "/installation/repositories",
      auth: "token",
      handler: (r) => {
        if (r.auth.kind !== "installation") {
          return githubError(
            403,
            "This endpoint can only be accessed with an installation access token",
          );
        }
        const repos = [...state.repos.values()];
        const { page, headers } = paginate(repos, r.url);
        return {
          status: 200,
          headers,
          body: {
            total_count: repos.length,
            repository_selection: "all",
            repositories: page.map(shapes.repository),
          },
        };
      },
    },
  ];
}
