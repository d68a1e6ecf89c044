// The GitHub client as a GitHub App, against the GitHub emulator: installation lookup and token
// caching, org scope through the installation's repositories, check runs with more annotations
// than one request holds, and redelivery of failed webhook deliveries into our own handler.
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createWebhookHandler } from "../../runner/github/index.js";
import type { Annotation, WorkflowJob } from "../../runner/github/index.js";
import { INSTALLATION_ID, rejection, startWorld } from "./helpers.js";
import type { World } from "./helpers.js";

let world: World | undefined;
let receiver: Server | undefined;

afterEach(async () => {
  if (world) {
    expect(world.emulator.violations()).toEqual([]);
    await world.emulator.close();
  }
  if (receiver) {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver!.close(resolve));
  }
  world = undefined;
  receiver = undefined;
});

const job = (name: string) => ({ name, labels: ["sandboxed"], script: "true" });

async function appWorld(options: { installationId?: number } = {}): Promise<World> {
  world = await startWorld("app", options);
  world.emulator.addRepo("octo-org/app", { ownerType: "Organization" });
  world.emulator.addRepo("octo-org/lib", { ownerType: "Organization" });
  return world;
}

const routes = (w: World, route: string) => w.emulator.requests().filter((r) => r.route === route);

describe("App auth", () => {
  it("looks the installation up once per repository and caches its token", async () => {
    const w = await appWorld();
    const run = w.emulator.queueRun("octo-org/app", { jobs: [job("build")] });
    const first = await w.client.listQueuedJobs({ repositories: ["octo-org/app"] });
    expect(first).toMatchObject([{ id: run.jobIds[0], installationId: INSTALLATION_ID }]);
    await w.client.listQueuedJobs({ repositories: ["octo-org/app"] });
    await w.client.getJob("octo-org/app", run.jobIds[0]!);

    expect(routes(w, "/repos/{owner}/{repo}/installation")).toHaveLength(1);
    expect(routes(w, "/app/installations/{installation_id}/access_tokens")).toHaveLength(1);
    const runs = routes(w, "/repos/{owner}/{repo}/actions/runs");
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.auth === "installation")).toBe(true);
  });

  it("uses the configured installation without a lookup", async () => {
    const w = await appWorld({ installationId: INSTALLATION_ID });
    await w.client.listQueuedJobs({ repositories: ["octo-org/app"] });
    expect(routes(w, "/repos/{owner}/{repo}/installation")).toEqual([]);
  });

  it("lists an organization's repositories through /installation/repositories", async () => {
    const w = await appWorld();
    const run = w.emulator.queueRun("octo-org/lib", { jobs: [job("lint")] });
    const jobs = await w.client.listQueuedJobs({ organization: "octo-org" });
    expect(jobs).toMatchObject([
      { id: run.jobIds[0], org: "octo-org", installationId: INSTALLATION_ID },
    ]);
    expect(routes(w, "/orgs/{org}/installation")).toHaveLength(1);
    expect(routes(w, "/installation/repositories")).toHaveLength(1);
    expect(routes(w, "/orgs/{org}/repos")).toEqual([]);
  });

  it("says when the App is not installed where it is asked to work", async () => {
    const w = await appWorld();
    const error = await rejection(
      w.client.generateJitConfig(
        { repo: "elsewhere/app" },
        { name: "sbx-1", labels: ["sandboxed"] },
      ),
    );
    expect(error).toEqual({
      code: "SBX_GITHUB_NOT_INSTALLED",
      message: "The GitHub App is not installed on elsewhere/app",
      hint: "Install the App on elsewhere/app (github.com → Settings → GitHub Apps → Install), or set github.app.installationId in sandboxed.yml.",
    });
  });
});

describe("reportJob as an App", () => {
  const annotations = (n: number): Annotation[] =>
    Array.from({ length: n }, (_, i) => ({
      path: ".github/workflows/ci.yml",
      startLine: i + 1,
      endLine: i + 1,
      level: "warning",
      message: `egress to host${i}.example denied`,
    }));

  it("creates a completed check run with its summary", async () => {
    const w = await appWorld();
    await w.client.reportJob("octo-org/app", "c".repeat(40), {
      name: "sandboxed: build",
      conclusion: "failure",
      title: "Failed: exit 1",
      summary: "## Egress\n\n2 denials",
      detailsUrl: "https://github.com/octo-org/app/actions/runs/1",
    });
    expect(w.emulator.statuses()).toEqual([]);
    expect(w.emulator.checkRuns()).toMatchObject([
      {
        repo: "octo-org/app",
        head_sha: "c".repeat(40),
        name: "sandboxed: build",
        status: "completed",
        conclusion: "failure",
        details_url: "https://github.com/octo-org/app/actions/runs/1",
        output: { title: "Failed: exit 1", summary: "## Egress\n\n2 denials" },
      },
    ]);
  });

  it("sends 120 annotations as 50 + 50 + 20 and a summary cut to 65535 characters", async () => {
    const w = await appWorld();
    await w.client.reportJob("octo-org/app", "d".repeat(40), {
      name: "sandboxed: build",
      conclusion: "success",
      title: "Passed",
      summary: "z".repeat(100_000),
      annotations: annotations(120),
    });
    const [checkRun] = w.emulator.checkRuns();
    expect(checkRun!.annotations).toHaveLength(120);
    expect(checkRun!.output.summary!.length).toBeLessThanOrEqual(65_535);
    expect(routes(w, "/repos/{owner}/{repo}/check-runs")).toHaveLength(1);
    expect(routes(w, "/repos/{owner}/{repo}/check-runs/{check_run_id}")).toHaveLength(2);
  });
});

describe("redeliverFailed", () => {
  it("asks GitHub to redeliver a lost workflow_job delivery, and only once", async () => {
    const received: { job: WorkflowJob; deliveryId: string }[] = [];
    const seen = new Set<string>();
    const handle = createWebhookHandler({
      secret: "hook-secret",
      onJob: (job, _action, deliveryId) => void received.push({ job, deliveryId }),
      isDuplicate: (id) => seen.has(id) || (seen.add(id), false),
    });
    receiver = createServer(handle);
    await new Promise<void>((resolve) => receiver!.listen(0, "127.0.0.1", resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;

    const since = Date.now() - 1000;
    world = await startWorld("app", { webhook: { url: hookUrl, secret: "hook-secret" } });
    world.emulator.addRepo("octo-org/app", { ownerType: "Organization" });

    world.emulator.webhooks.drop(true);
    const run = world.emulator.queueRun("octo-org/app", { jobs: [job("build")] });
    await world.emulator.webhooks.idle();
    expect(received).toEqual([]);

    world.emulator.webhooks.drop(false);
    expect(await world.client.redeliverFailed(since)).toBe(1);
    await world.emulator.waitFor(() =>
      world!.emulator.deliveries().some((d) => d.redelivery && d.status_code === 202),
    );
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(received.map((r) => r.job.id)).toEqual(run.jobIds);
    const failed = world.emulator.deliveries().find((d) => !d.redelivery)!;
    expect(received[0]!.deliveryId).toBe(failed.guid);

    // Delivered now: nothing left to ask for.
    expect(await world.client.redeliverFailed(since)).toBe(0);
  });
});
