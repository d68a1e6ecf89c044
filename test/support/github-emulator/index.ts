/**
 * A TEST STAND-IN FOR GITHUB'S SERVERS. GitHub cannot be reached from the test hosts, so this
 * in-process HTTP server plays api.github.com for `sandboxed serve`'s tests:
 *
 * - the REST endpoints serve uses, at GitHub's paths, with GitHub's shapes (built from the
 *   examples in @octokit/openapi) and error bodies; every reply is checked against GitHub's
 *   OpenAPI description and mismatches are kept in `violations()` (tests assert it is empty);
 * - the job life of GitHub Actions (queued → in_progress → completed, ephemeral JIT runners,
 *   runner deletion, cancellation) with `workflow_job` webhooks built from
 *   @octokit/webhooks-examples, signed, and recorded as App hook deliveries;
 * - injected 5xx and rate-limit replies (`faults`), lost webhooks (`webhooks.drop`);
 * - `/_runner/…`: a private protocol for the stand-in runner (test/support/runner-standin), in
 *   place of the official runner's broker (see runner-protocol.ts).
 *
 * Not covered: GraphQL, endpoints serve does not call, permissions per token (every accepted
 * token may do everything), run attempts and re-runs, runner labels GitHub adds by itself (a
 * runner has exactly the labels it was registered with; matching is case-insensitive). Shapes
 * come from the OpenAPI examples, so the spec is loaded even with `validate: false`.
 */
import { lstat, unlink } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { appRoutes } from "./rest-app.js";
import { actionsRoutes } from "./rest-actions.js";
import { repoRoutes } from "./rest-repos.js";
import { createAuthenticator } from "./auth.js";
import type { EmulatorContext } from "./context.js";
import { createFaults } from "./faults.js";
import { loadOpenApi } from "./openapi.js";
import { createRunnerProtocol, encodeJitConfig } from "./runner-protocol.js";
import { createFront } from "./server.js";
import { createShapes, iso } from "./shapes.js";
import { createState } from "./state.js";
import type { JobRecord } from "./state.js";
import type {
  Delivery,
  EmulatedJob,
  EmulatorOptions,
  EmulatorRequest,
  GithubEmulator,
  Violation,
} from "./types.js";
import { createWebhooks } from "./webhooks.js";
import type { DeliveryRecord, Webhooks } from "./webhooks.js";

export type * from "./types.js";

const HTML_URL = "https://github.com";

export async function startGithubEmulator(options: EmulatorOptions): Promise<GithubEmulator> {
  const openapi = await loadOpenApi();
  const now = options.now ?? Date.now;
  const requests: EmulatorRequest[] = [];
  const violations: Violation[] = [];
  let url = "";
  const apiUrl = () => url;
  // The state reports job transitions to the webhook sender, which needs the state: tie the
  // knot through this holder (webhooks are only sent after start-up).
  const holder: { webhooks?: Webhooks } = {};
  const state = createState({
    now,
    busyRunnerDelete: options.busyRunnerDelete ?? "fail-job",
    onJob: (job, action) => holder.webhooks?.send(job, action),
  });
  const webhooks = createWebhooks({ emulator: options, state, openapi, apiUrl, violations });
  holder.webhooks = webhooks;
  const auth = createAuthenticator({ token: options.token, app: options.app, now });
  const faults = createFaults();
  const ctx: EmulatorContext = {
    options,
    state,
    shapes: createShapes(openapi, state, { api: apiUrl, html: HTML_URL }, options.app?.appId),
    auth,
    webhooks,
    apiUrl,
    jitConfig: (runner) =>
      encodeJitConfig(runner, { server: options.publicUrl ?? url, html: HTML_URL }),
  };
  const server = createFront({
    routes: [...repoRoutes(ctx), ...actionsRoutes(ctx), ...appRoutes(ctx)],
    runner: createRunnerProtocol(state),
    openapi,
    validate: options.validate !== false,
    faults,
    auth,
    now,
    rateLimitResetSeconds: options.rateLimitResetSeconds ?? 1,
    baseUrl: apiUrl,
    requests,
    violations,
  });

  if ("path" in options.listen) {
    // A socket left by a killed test run would make listen fail with EADDRINUSE.
    const stale = await lstat(options.listen.path).catch(() => undefined);
    if (stale?.isSocket() === true) await unlink(options.listen.path);
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if ("path" in options.listen) server.listen(options.listen.path, resolve);
    else server.listen(options.listen.port, options.listen.host, resolve);
  });
  if ("path" in options.listen) {
    url = options.publicUrl ?? "http://localhost";
  } else {
    const { port } = server.address() as AddressInfo;
    const host = options.listen.host.includes(":")
      ? `[${options.listen.host}]`
      : options.listen.host;
    url = `http://${host}:${port}`;
  }

  const jobView = (job: JobRecord): EmulatedJob => ({
    id: job.id,
    run_id: job.run.id,
    repo: job.run.repo.fullName,
    name: job.name,
    workflow_name: job.run.workflowName,
    labels: [...job.labels],
    script: job.script,
    head_sha: job.run.headSha,
    status: job.status,
    conclusion: job.conclusion,
    runner_id: job.runnerId,
    runner_name: job.runnerName,
    created_at: iso(job.createdAt),
    started_at: job.startedAt === null ? null : iso(job.startedAt),
    completed_at: job.completedAt === null ? null : iso(job.completedAt),
    log: job.log,
  });
  const deliveryView = (d: DeliveryRecord): Delivery => ({
    id: d.id,
    guid: d.guid,
    event: d.event,
    action: d.action,
    job_id: d.jobId,
    delivered_at: iso(d.deliveredAt),
    redelivery: d.redelivery,
    status_code: d.statusCode,
    status: d.status,
    duration: d.duration,
    installation_id: d.installationId,
    repository_id: d.repositoryId,
    payload: structuredClone(d.payload),
  });

  return {
    url,
    publicUrl: options.publicUrl ?? url,
    addRepo: (fullName, repoOptions = {}) => void state.addRepo(fullName, repoOptions),
    queueRun: (repo, runOptions) => {
      const run = state.queueRun(repo, runOptions);
      return { runId: run.id, jobIds: [...run.jobIds] };
    },
    cancelJob: (id) => state.cancelJob(id),
    jobs: () => [...state.jobs.values()].map(jobView),
    jobLog: (id) => state.jobs.get(id)?.log ?? "",
    runners: () =>
      [...state.runners.values()].map((r) => ({
        id: r.id,
        name: r.name,
        labels: [...r.labels],
        target: r.target,
        runner_group_id: r.groupId,
        status: r.status,
        busy: r.jobId !== null,
        ephemeral: true as const,
        job_id: r.jobId,
        created_at: iso(r.createdAt),
      })),
    checkRuns: () =>
      state.checkRuns.map((c) => ({
        id: c.id,
        repo: c.repo.fullName,
        head_sha: c.headSha,
        name: c.name,
        status: c.status,
        conclusion: c.conclusion,
        details_url: c.detailsUrl,
        external_id: c.externalId,
        output: { ...c.output },
        annotations: [...c.annotations],
      })),
    statuses: () =>
      state.statuses.map((s) => ({
        id: s.id,
        repo: s.repo.fullName,
        sha: s.sha,
        state: s.state,
        context: s.context,
        description: s.description,
        target_url: s.targetUrl,
      })),
    deliveries: () => webhooks.list().map(deliveryView),
    maxConcurrentRunning: () => state.maxRunning(),
    faults: { add: (rule) => faults.add(rule), clear: () => faults.clear() },
    webhooks: {
      drop: (on) => webhooks.drop(on),
      resend: async (delivery) => deliveryView(await webhooks.resend(delivery)),
      idle: () => webhooks.idle(),
    },
    requests: () => [...requests],
    violations: () => [...violations],
    waitFor: (check, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (check()) return resolve();
        const timer = setTimeout(() => {
          stop();
          reject(new Error(`emulator.waitFor: condition not met within ${timeoutMs} ms`));
        }, timeoutMs);
        const stop = state.watch(() => {
          if (!check()) return;
          clearTimeout(timer);
          stop();
          resolve();
        });
      }),
    close: async () => {
      webhooks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
