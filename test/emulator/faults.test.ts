// Injected failures: the GitHub emulator answers the next matching requests as GitHub does when
// it is down or throttling, and Octokit's own retry and throttling plugins recognise the replies.
import { Octokit } from "@octokit/rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GithubEmulator } from "../support/github-emulator/index.js";
import {
  APP_ID,
  appClient,
  appKeys,
  failure,
  INSTALLATION_ID,
  quiet,
  REPO,
  startEmulator,
  TOKEN,
  tokenClient,
} from "./helpers.js";

const keys = appKeys();
let emulator: GithubEmulator;
const RUNS = "/repos/octo-org/app/actions/runs";

beforeAll(async () => {
  emulator = await startEmulator({
    app: { appId: APP_ID, installationId: INSTALLATION_ID, publicKeyPem: keys.publicKeyPem },
  });
  emulator.addRepo("octo-org/app");
});
afterAll(() => emulator.close());
afterEach(() => {
  emulator.faults.clear();
  expect(emulator.violations()).toEqual([]);
});

const listRuns = (octokit = tokenClient(emulator)) =>
  octokit.rest.actions.listWorkflowRunsForRepo({ ...REPO, status: "queued" });

describe("fault replies", () => {
  it.each([
    { name: "500", reply: 500 as const, message: "Server Error" },
    { name: "502", reply: 502 as const, message: "Server Error" },
    { name: "503", reply: 503 as const, message: "Service Unavailable" },
  ])(
    "$name for the next `times` matching requests, then the real answer",
    async ({ reply, message }) => {
      emulator.faults.add({ path: RUNS, reply, times: 2 });
      for (let i = 0; i < 2; i++) {
        const error = await failure(listRuns());
        expect(error.status).toBe(reply);
        expect(error.response?.data).toMatchObject({ message });
      }
      expect((await listRuns()).status).toBe(200);
      const last = emulator.requests().slice(-3);
      expect(last.map((r) => [r.status, r.fault])).toEqual([
        [reply, true],
        [reply, true],
        [200, false],
      ]);
    },
  );

  it("a primary rate limit: 403, x-ratelimit-remaining 0, a reset time, GitHub's message", async () => {
    emulator.faults.add({ method: "GET", path: /\/actions\/runs$/, reply: "rate-limit", times: 1 });
    const before = Math.floor(Date.now() / 1000);
    const error = await failure(listRuns());
    expect(error.status).toBe(403);
    const headers = error.response!.headers;
    expect(headers["x-ratelimit-remaining"]).toBe("0");
    expect(Number(headers["x-ratelimit-reset"])).toBeGreaterThan(before);
    expect(Number(headers["x-ratelimit-reset"])).toBeLessThanOrEqual(before + 3);
    expect((error.response?.data as { message: string }).message).toMatch(
      /^API rate limit exceeded for user ID 1\./,
    );
  });

  it("names the installation in a rate limit met with an installation token", async () => {
    emulator.faults.add({ path: RUNS, reply: "rate-limit", times: 1 });
    const error = await failure(listRuns(appClient(emulator, keys.privateKey, INSTALLATION_ID)));
    expect((error.response?.data as { message: string }).message).toContain(
      `API rate limit exceeded for installation ID ${INSTALLATION_ID}.`,
    );
  });

  it("a secondary rate limit: 403 with retry-after", async () => {
    emulator.faults.add({ path: RUNS, reply: "secondary-rate-limit", times: 1 });
    const error = await failure(listRuns());
    expect(error.status).toBe(403);
    expect(error.response!.headers["retry-after"]).toBe("1");
    expect((error.response?.data as { message: string }).message).toMatch(/secondary rate limit/);
  });

  it("matches on method and path only", async () => {
    emulator.faults.add({ method: "POST", path: RUNS, reply: 500, times: 1 });
    expect((await listRuns()).status).toBe(200);
    emulator.faults.add({ path: "/repos/octo-org/other/actions/runs", reply: 500, times: 1 });
    expect((await listRuns()).status).toBe(200);
  });

  it("refuses a rule with no `times`", () => {
    expect(() => emulator.faults.add({ path: RUNS, reply: 500, times: 0 })).toThrow(/times/);
  });
});

describe("Octokit's retry and throttling plugins on these replies", () => {
  it("retry through a 502, a primary and a secondary rate limit, and get the answer", async () => {
    const seen: string[] = [];
    const Client = Octokit.plugin(retry, throttling);
    const octokit = new Client({
      baseUrl: emulator.url,
      auth: TOKEN,
      log: quiet,
      retry: { retryAfterBaseValue: 10 },
      // Both plugins scale their waits by retryAfterBaseValue (ms per second): keep the test quick.
      throttle: {
        retryAfterBaseValue: 10,
        onRateLimit: (after: number) => {
          seen.push(`primary, retry after ${after <= 3 ? "≤3" : after} s`);
          return true;
        },
        onSecondaryRateLimit: (after: number) => {
          seen.push(`secondary, retry after ${after} s`);
          return true;
        },
      },
    });
    const mark = emulator.requests().length;
    emulator.faults.add({ path: RUNS, reply: 502, times: 1 });
    emulator.faults.add({ path: "/repos/octo-org/app", reply: "rate-limit", times: 1 });
    emulator.faults.add({
      path: "/repos/octo-org/app/actions/runners",
      reply: "secondary-rate-limit",
      times: 1,
    });
    expect((await octokit.rest.actions.listWorkflowRunsForRepo({ ...REPO })).status).toBe(200);
    expect((await octokit.rest.repos.get({ ...REPO })).status).toBe(200);
    expect((await octokit.rest.actions.listSelfHostedRunnersForRepo({ ...REPO })).status).toBe(200);
    expect(seen).toEqual(["primary, retry after ≤3 s", "secondary, retry after 1 s"]);
    const calls = emulator.requests().slice(mark);
    expect(calls.map((r) => [r.status, r.fault])).toEqual([
      [502, true],
      [200, false],
      [403, true],
      [200, false],
      [403, true],
      [200, false],
    ]);
  });
});
