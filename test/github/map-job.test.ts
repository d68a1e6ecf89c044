// GitHub's job objects → WorkflowJob (runner/github/map-job.ts): every workflow_job example GitHub
// publishes (@octokit/webhooks-examples) and the OpenAPI example job map; a malformed one names
// the field that is wrong.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { jobFromRest, jobFromWebhook } from "../../runner/github/map-job.js";
import { isSandboxedError } from "../../runner/errors/index.js";

const require = createRequire(import.meta.url);
const definitions = require("@octokit/webhooks-examples/api.github.com/index.json") as {
  name: string;
  examples: Record<string, unknown>[];
}[];
const examples = definitions.find((d) => d.name === "workflow_job")!.examples;
const openapi = require("@octokit/openapi/generated/api.github.com.deref.json") as {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
};

/** The `default` example of a REST reply in GitHub's OpenAPI description. */
function openapiExample(path: string, status = "200"): Record<string, unknown> {
  const reply = openapi.paths[path]!.get!.responses[status] as {
    content: { "application/json": { examples: { default: { value: Record<string, unknown> } } } };
  };
  return reply.content["application/json"].examples.default.value;
}

const queued = examples.find(
  (e) => e.action === "queued" && (e.workflow_job as { status: string }).status === "queued",
)!;
const clone = <T>(value: T): T => structuredClone(value);

function thrown(fn: () => unknown): { code: string; message: string; hint: string | undefined } {
  try {
    fn();
  } catch (error) {
    if (isSandboxedError(error))
      return { code: error.code, message: error.message, hint: error.hint };
    throw error;
  }
  throw new Error("expected a SandboxedError");
}

describe("jobFromWebhook", () => {
  it.each(
    examples.map((payload, i) => ({ name: `example ${i} (${String(payload.action)})`, payload })),
  )("maps GitHub's $name", ({ payload }) => {
    const { action, job } = jobFromWebhook(payload);
    const raw = payload.workflow_job as Record<string, unknown>;
    expect(action).toBe(payload.action);
    expect(job.id).toBe(raw.id);
    expect(job.runId).toBe(raw.run_id);
    expect(job.labels).toEqual(raw.labels);
    expect(job.repo).toBe((payload.repository as { full_name: string }).full_name);
  });

  it("maps every field of a queued job", () => {
    const { job } = jobFromWebhook(queued);
    expect(job).toEqual({
      id: 289782451,
      runId: 2202229078,
      runAttempt: 1,
      repo: "Codertocat/Hello-World",
      name: "update",
      workflowName: "CodeQL",
      labels: ["ubuntu-latest"],
      headSha: "3484a3fb816e0859fd6e1cea078d76385ff50625",
      status: "queued",
      conclusion: null,
      // GitHub's example names a runner even while queued; we keep what it says.
      runnerName: "GitHub Actions 5",
      htmlUrl: "https://github.com/octo-org/octo-repo/runs/1291536064",
      installationId: 3456996,
    });
  });

  it("takes the organization's login when the payload names one", () => {
    const withOrg = examples.find((e) => e.organization)!;
    expect(jobFromWebhook(withOrg).job.org).toBe((withOrg.organization as { login: string }).login);
  });

  // Rows: what is broken, and the field path the message must name.
  it.each([
    { name: "not an object", edit: () => 42, field: "payload must be an object, got 42" },
    { name: "unknown action", edit: (p: Rec) => ({ ...p, action: "frobbed" }), field: "action" },
    {
      name: "no repository",
      edit: (p: Rec) => ({ ...p, repository: undefined }),
      field: "repository",
    },
    {
      name: "repository not owner/name",
      edit: (p: Rec) => ({ ...p, repository: { full_name: "../etc" } }),
      field: "repository.full_name",
    },
    {
      name: "no workflow_job",
      edit: (p: Rec) => ({ ...p, workflow_job: null }),
      field: "workflow_job",
    },
    {
      name: "id a string",
      edit: job({ id: "12" }),
      field: "workflow_job.id must be a whole number",
    },
    { name: "negative run id", edit: job({ run_id: -1 }), field: "workflow_job.run_id" },
    { name: "labels not a list", edit: job({ labels: "gpu" }), field: "workflow_job.labels" },
    { name: "a label not a string", edit: job({ labels: ["a", 1] }), field: "workflow_job.labels" },
    { name: "no head sha", edit: job({ head_sha: undefined }), field: "workflow_job.head_sha" },
    { name: "unknown status", edit: job({ status: "paused" }), field: "workflow_job.status" },
    {
      name: "runner_name a number",
      edit: job({ runner_name: 3 }),
      field: "workflow_job.runner_name",
    },
    {
      name: "installation id a string",
      edit: (p: Rec) => ({ ...p, installation: { id: "7" } }),
      field: "installation.id",
    },
  ])("refuses a payload with $name", ({ edit, field }) => {
    const error = thrown(() => jobFromWebhook(edit(clone(queued))));
    expect(error.code).toBe("SBX_GITHUB_WEBHOOK_PAYLOAD");
    expect(error.message).toMatch(/^workflow_job webhook payload is malformed: /);
    expect(error.message).toContain(field);
    expect(error.hint).toBe(
      "Point the webhook at GitHub's workflow_job events with content type application/json.",
    );
  });
});

type Rec = Record<string, unknown>;
function job(fields: Rec): (payload: Rec) => Rec {
  return (payload) => ({
    ...payload,
    workflow_job: { ...(payload.workflow_job as Rec), ...fields },
  });
}

describe("jobFromRest", () => {
  const example = openapiExample("/repos/{owner}/{repo}/actions/jobs/{job_id}");
  const what = "GET /repos/octo-org/app/actions/jobs/399444496";

  it("maps GitHub's OpenAPI example job, naming the repository it was asked of", () => {
    expect(
      jobFromRest(example, { repo: "octo-org/app", what, installationId: 5, org: "octo-org" }),
    ).toEqual({
      id: example.id,
      runId: example.run_id,
      runAttempt: example.run_attempt ?? 1,
      repo: "octo-org/app",
      name: example.name,
      workflowName: example.workflow_name ?? "",
      labels: example.labels,
      headSha: example.head_sha,
      status: example.status,
      conclusion: example.conclusion,
      runnerName: example.runner_name,
      htmlUrl: example.html_url,
      installationId: 5,
      org: "octo-org",
    });
  });

  // GitHub's statuses beyond ours: not yet runnable, like "waiting".
  it.each([
    { name: "queued", status: "queued", expected: "queued" },
    { name: "in_progress", status: "in_progress", expected: "in_progress" },
    { name: "completed", status: "completed", expected: "completed" },
    { name: "waiting", status: "waiting", expected: "waiting" },
    { name: "requested → waiting", status: "requested", expected: "waiting" },
    { name: "pending → waiting", status: "pending", expected: "waiting" },
  ])("status $name", ({ status, expected }) => {
    expect(jobFromRest({ ...example, status }, { repo: "o/r", what }).status).toBe(expected);
  });

  it.each([
    {
      name: 'workflow_name null → ""',
      fields: { workflow_name: null },
      key: "workflowName",
      expected: "",
    },
    { name: 'html_url null → ""', fields: { html_url: null }, key: "htmlUrl", expected: "" },
    {
      name: "no run_attempt → 1",
      fields: { run_attempt: undefined },
      key: "runAttempt",
      expected: 1,
    },
    {
      name: "runner_name absent → null",
      fields: { runner_name: undefined },
      key: "runnerName",
      expected: null,
    },
  ] as const)("defaults $name", ({ fields, key, expected }) => {
    expect(jobFromRest({ ...example, ...fields }, { repo: "o/r", what })[key]).toBe(expected);
  });

  it("names the request and the field of a malformed reply", () => {
    const error = thrown(() => jobFromRest({ ...example, labels: null }, { repo: "o/r", what }));
    expect(error).toEqual({
      code: "SBX_GITHUB_BAD_REPLY",
      message: `GitHub's reply to ${what} is malformed: job.labels must be a list of strings, got null`,
      hint: "Check that github.apiUrl is GitHub's REST API (https://api.github.com, or https://HOST/api/v3 for GHES) and no proxy rewrites replies.",
    });
  });

  it("refuses an HTML page where JSON was expected", () => {
    const error = thrown(() => jobFromRest("<html>proxy login</html>", { repo: "o/r", what }));
    expect(error.message).toBe(
      `GitHub's reply to ${what} is malformed: job must be an object, got "<html>proxy login</html>"`,
    );
  });
});
