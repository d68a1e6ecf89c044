// The GitHub emulator as a GitHub App installation: App JWTs (RS256, checked against the App's
// public key), installation tokens, check runs, installation lookups. Every reply is checked
// against @octokit/openapi.
import { sign } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GithubEmulator } from "../support/github-emulator/index.js";
import {
  APP_ID,
  appClient,
  appKeys,
  failure,
  INSTALLATION_ID,
  REPO,
  startEmulator,
  tokenClient,
} from "./helpers.js";

let emulator: GithubEmulator;
const keys = appKeys();

beforeAll(async () => {
  emulator = await startEmulator({
    token: undefined,
    app: { appId: APP_ID, installationId: INSTALLATION_ID, publicKeyPem: keys.publicKeyPem },
  });
  emulator.addRepo("octo-org/app");
});
afterAll(() => emulator.close());
afterEach(() => expect(emulator.violations()).toEqual([]));

/** A JWT as GitHub Apps make them, with chosen claims, signed with `privateKey`. */
function jwt(claims: Record<string, unknown>, privateKey = keys.privateKey): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const unsigned = `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}`;
  return `${unsigned}.${sign("sha256", Buffer.from(unsigned), privateKey).toString("base64url")}`;
}
const nowS = () => Math.floor(Date.now() / 1000);

describe("App authentication", () => {
  it("trades the App JWT for an installation token, then uses it", async () => {
    const octokit = appClient(emulator, keys.privateKey, INSTALLATION_ID);
    const { data } = await octokit.rest.apps.listReposAccessibleToInstallation();
    expect(data.repositories.map((r) => r.full_name)).toEqual(["octo-org/app"]);
    const calls = emulator.requests().slice(-2);
    expect(calls.map((r) => [r.method, r.route, r.status, r.auth])).toEqual([
      ["POST", "/app/installations/{installation_id}/access_tokens", 201, "app"],
      ["GET", "/installation/repositories", 200, "installation"],
    ]);
  });

  it("finds the installation of a repository and of an organization", async () => {
    const octokit = appClient(emulator, keys.privateKey);
    const repo = await octokit.rest.apps.getRepoInstallation({ ...REPO });
    expect(repo.data).toMatchObject({
      id: INSTALLATION_ID,
      app_id: APP_ID,
      account: { login: "octo-org" },
    });
    const org = await octokit.rest.apps.getOrgInstallation({ org: "octo-org" });
    expect(org.data.id).toBe(INSTALLATION_ID);
    expect((await failure(octokit.rest.apps.getOrgInstallation({ org: "nobody" }))).status).toBe(
      404,
    );
  });

  it.each([
    {
      name: "signed with another key",
      token: () => jwt({ iat: nowS() - 30, exp: nowS() + 500, iss: APP_ID }, appKeys().privateKey),
      says: "could not be decoded",
    },
    {
      name: "expired",
      token: () => jwt({ iat: nowS() - 700, exp: nowS() - 60, iss: APP_ID }),
      says: "'Expiration time'",
    },
    {
      name: "too far in the future",
      token: () => jwt({ iat: nowS(), exp: nowS() + 3600, iss: APP_ID }),
      says: "too far in the future",
    },
    {
      name: "for another App",
      token: () => jwt({ iat: nowS() - 30, exp: nowS() + 500, iss: 1 }),
      says: "Integration not found",
    },
  ])("401 for an App JWT $name", async ({ token, says }) => {
    const error = await failure(
      tokenClient(emulator, token()).request(
        "POST /app/installations/{installation_id}/access_tokens",
        {
          installation_id: INSTALLATION_ID,
        },
      ),
    );
    expect(error.status).toBe(401);
    expect((error.response?.data as { message: string }).message).toContain(says);
  });

  it("404 for a token of another installation; 401 for an installation token on /app routes", async () => {
    const app = tokenClient(emulator, jwt({ iat: nowS() - 30, exp: nowS() + 500, iss: APP_ID }));
    const other = await failure(
      app.request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: 5,
      }),
    );
    expect(other.status).toBe(404);
    const { data } = await app.request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: INSTALLATION_ID,
    });
    expect(data.token).toMatch(/^ghs_/);
    const wrongKind = await failure(
      tokenClient(emulator, data.token).rest.apps.listWebhookDeliveries(),
    );
    expect(wrongKind.status).toBe(401);
  });

  it("refuses a made-up token when only an App is configured", async () => {
    expect(
      (await failure(tokenClient(emulator, "ghp_madeup").rest.repos.get({ ...REPO }))).status,
    ).toBe(401);
  });
});

describe("check runs", () => {
  it("creates a check run and completes it with a summary and annotations", async () => {
    const octokit = appClient(emulator, keys.privateKey, INSTALLATION_ID);
    const sha = "d".repeat(40);
    const created = await octokit.rest.checks.create({
      ...REPO,
      name: "sandboxed: build",
      head_sha: sha,
      status: "in_progress",
      external_id: "job-1",
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({
      name: "sandboxed: build",
      status: "in_progress",
      head_sha: sha,
    });
    const updated = await octokit.rest.checks.update({
      ...REPO,
      check_run_id: created.data.id,
      conclusion: "failure",
      output: {
        title: "infrastructure_error",
        summary: "The sandbox died.",
        annotations: [
          {
            path: ".github/workflows/ci.yml",
            start_line: 1,
            end_line: 1,
            annotation_level: "failure",
            message: "egress denied: evil.test",
          },
        ],
      },
    });
    expect(updated.data).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(updated.data.output).toMatchObject({
      title: "infrastructure_error",
      annotations_count: 1,
    });
    const [check] = emulator.checkRuns().filter((c) => c.head_sha === sha);
    expect(check).toMatchObject({
      name: "sandboxed: build",
      conclusion: "failure",
      external_id: "job-1",
      output: { title: "infrastructure_error", summary: "The sandbox died." },
    });
    expect(check!.annotations).toHaveLength(1);
  });

  it("422 for a check run without head_sha", async () => {
    const octokit = appClient(emulator, keys.privateKey, INSTALLATION_ID);
    const error = await failure(
      octokit.request("POST /repos/{owner}/{repo}/check-runs", { ...REPO, name: "x" } as never),
    );
    expect(error.status).toBe(422);
    expect((error.response?.data as { message: string }).message).toContain(
      '"head_sha" wasn\'t supplied.',
    );
  });
});
