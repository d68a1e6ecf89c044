// Every SBX_GITHUB_* error states what failed and how to fix it (STYLE H6). Replies GitHub would
// never send come from a small canned server; the emulator only sends well-formed ones.
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGithubClient } from "../../runner/github/index.js";
import type { GithubAuth, GithubClient } from "../../runner/github/index.js";
import { apiError } from "../../runner/github/errors.js";
import { isSandboxedError } from "../../runner/errors/index.js";
import { rejection } from "./helpers.js";

/** path → [status, body]; anything else 404. */
const CANNED: Record<string, [number, unknown]> = {
  "/repos/o/r/contents/folder": [200, [{ type: "file", name: "a" }]],
  "/repos/o/r/contents/link": [200, { type: "symlink", encoding: "base64", content: "" }],
  "/repos/o/r/contents/huge": [200, { type: "file", encoding: "none", content: "" }],
  "/repos/o/r/contents/odd": [200, { type: "file", encoding: "utf-16", content: "" }],
  "/repos/o/r/actions/runners/generate-jitconfig": [
    201,
    { runner: { id: 1, name: "sbx" }, encoded_jit_config: 5 },
  ],
  "/orgs/o/actions/runners/generate-jitconfig": [
    201,
    { runner: { name: "sbx" }, encoded_jit_config: "eyJ4Ijoi" },
  ],
  "/repos/o/r/actions/runners": [
    200,
    { total_count: 1, runners: [{ id: 1, name: "sbx-1", busy: "no", status: "online" }] },
  ],
  "/repos/o/r/actions/jobs/1": [200, "<html>Sign in to the proxy</html>"],
};

let server: Server;
let client: GithubClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    const [status, body] = CANNED[new URL(req.url!, "http://x").pathname] ?? [
      404,
      { message: "Not Found" },
    ];
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  client = createGithubClient({
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    auth: { kind: "token", token: "t" },
    minRetryDelayMs: 1,
    minWriteIntervalMs: 0,
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const REPLY_HINT =
  "Check that github.apiUrl is GitHub's REST API (https://api.github.com, or https://HOST/api/v3 for GHES) and no proxy rewrites replies.";

describe("SBX_GITHUB_BAD_REPLY", () => {
  it.each([
    {
      name: "a JIT blob that is no string (its value is never shown)",
      call: () => client.generateJitConfig({ repo: "o/r" }, { name: "sbx", labels: ["x"] }),
      message:
        "GitHub's reply to POST /repos/o/r/actions/runners/generate-jitconfig is malformed: encoded_jit_config must be a non-empty string",
      hint: "Check that github.apiUrl is GitHub's REST API and no proxy rewrites replies.",
    },
    {
      name: "a JIT reply without the runner's id",
      call: () => client.generateJitConfig({ org: "o" }, { name: "sbx", labels: ["x"] }),
      message:
        "GitHub's reply to POST /orgs/o/actions/runners/generate-jitconfig is malformed: runner.id must be a whole number, got nothing",
      hint: REPLY_HINT,
    },
    {
      name: "a runner whose busy is no boolean",
      call: () => client.listRunners({ repo: "o/r" }, { namePrefix: "sbx-" }),
      message: `GitHub's reply to GET /repos/o/r/actions/runners is malformed: runners[0].busy must be true or false, got "no"`,
      hint: REPLY_HINT,
    },
    {
      name: "an HTML page for a job",
      call: () => client.getJob("o/r", 1),
      message: `GitHub's reply to GET /repos/o/r/actions/jobs/1 is malformed: job must be an object, got "<html>Sign in to the proxy</html>"`,
      hint: REPLY_HINT,
    },
    {
      name: "a file in an encoding GitHub does not use",
      call: () => client.readRepoFile("o/r", "odd"),
      message: `GitHub's reply to GET /repos/o/r/contents/odd is malformed: content.encoding must be "base64", got "utf-16"`,
      hint: REPLY_HINT,
    },
  ])("$name", async ({ call, message, hint }) => {
    expect(await rejection(call())).toEqual({ code: "SBX_GITHUB_BAD_REPLY", message, hint });
  });
});

describe("SBX_GITHUB_REPO_FILE", () => {
  it.each([
    {
      name: "a folder",
      path: "folder",
      message: "o/r:folder is a folder on the default branch",
      hint: "Make folder a file, or remove it.",
    },
    {
      name: "a symlink",
      path: "link",
      message: "o/r:link is a symlink, not a file",
      hint: "Make link a regular file.",
    },
    {
      name: "a file over 1 MB",
      path: "huge",
      message: "o/r:huge is too large for GitHub's contents API",
      hint: "Keep huge under 1 MB.",
    },
  ])("$name", async ({ path, message, hint }) => {
    expect(await rejection(client.readRepoFile("o/r", path))).toEqual({
      code: "SBX_GITHUB_REPO_FILE",
      message,
      hint,
    });
  });
});

describe("SBX_GITHUB_REPO_NAME", () => {
  it.each([
    { name: "no owner", repo: "app" },
    { name: "a path", repo: "octo-org/app/extra" },
    { name: "a dot-dot owner", repo: "../app" },
  ])("$name", async ({ repo }) => {
    expect(await rejection(client.getJob(repo, 1))).toEqual({
      code: "SBX_GITHUB_REPO_NAME",
      message: `"${repo}" is not a repository name "owner/name"`,
      hint: "Write it as owner/name, e.g. octo-org/app.",
    });
  });
});

describe("SBX_GITHUB_AUTH", () => {
  const pem = "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n";
  it.each([
    {
      name: "an empty token",
      auth: { kind: "token", token: "  " },
      message: "The GitHub token is empty",
      hint: "Put a token in github.token's file: fine-grained, with Actions read, Administration write, Commit statuses write and Contents read.",
    },
    {
      name: "App id 0",
      auth: { kind: "app", appId: 0, privateKey: pem },
      message: "GitHub App id 0 is not a positive integer",
      hint: "Use the App ID shown on the App's settings page (github.app.id).",
    },
    {
      name: "a key that is no PEM",
      auth: { kind: "app", appId: 1, privateKey: "ssh-rsa AAAA" },
      message: "The GitHub App private key is not a PEM private key",
      hint: "Point github.app.privateKeyFile at the .pem file downloaded from the App's settings page.",
    },
  ] as { name: string; auth: GithubAuth; message: string; hint: string }[])(
    "$name",
    ({ auth, message, hint }) => {
      let error: unknown;
      try {
        createGithubClient({ apiUrl: "http://127.0.0.1:1", auth });
      } catch (caught) {
        error = caught;
      }
      expect(
        isSandboxedError(error) && { code: error.code, message: error.message, hint: error.hint },
      ).toEqual({
        code: "SBX_GITHUB_AUTH",
        message,
        hint,
      });
    },
  );
});

describe("SBX_GITHUB_API", () => {
  /** The fields of @octokit/request-error's RequestError that apiError reads. */
  const requestError = (status: number, message: string, headers: Record<string, string> = {}) =>
    Object.assign(new Error(message), {
      status,
      request: {
        method: "POST",
        url: "https://api.github.com/orgs/o/actions/runners/generate-jitconfig?x=1",
      },
      response: { headers, data: { message } },
    });

  it.each([
    {
      name: "401",
      status: 401,
      text: "Bad credentials",
      hint: /^Check github.token's file, or github.app.id/,
    },
    {
      name: "403 permission",
      status: 403,
      text: "Resource not accessible by integration",
      hint: /^Give the token or App: Actions read/,
    },
    {
      name: "404",
      status: 404,
      text: "Not Found",
      hint: /^Check that the repository or organization exists/,
    },
    {
      name: "422",
      status: 422,
      text: "Validation Failed",
      hint: /^GitHub refused the request as sent/,
    },
    {
      name: "no reply (0)",
      status: 0,
      text: "fetch failed",
      hint: /^GitHub failed through 3 retries/,
    },
    {
      name: "429 secondary rate limit",
      status: 429,
      text: "You have exceeded a secondary rate limit",
      hint: /^GitHub's rate limit held through 3 retries/,
    },
  ])("$name", ({ status, text, hint }) => {
    const error = apiError(requestError(status, text), 3);
    expect(isSandboxedError(error) && error.code).toBe("SBX_GITHUB_API");
    expect((error as Error).message).toBe(
      `GitHub API POST /orgs/o/actions/runners/generate-jitconfig failed: ${status} ${text}`,
    );
    expect(isSandboxedError(error) && error.hint).toMatch(hint);
  });

  it("passes other errors through", () => {
    const plain = new TypeError("boom");
    expect(apiError(plain, 3)).toBe(plain);
  });
});
