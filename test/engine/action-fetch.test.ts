// The action cache against a stand-in for GitHub's REST API (test/support/action-archive-server.ts):
// resolution by the commits endpoint, the tarball redirect, the egress check on every hop, the
// cache by commit, and refusal of archives that GitHub would never serve.
import { mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createActionCache } from "../../runner/engine/action-fetch.js";
import type {
  ActionCacheOptions,
  EgressDecisionEvent,
  FetchLike,
} from "../../runner/engine/action-fetch.js";
import { parseUses } from "../../runner/engine/action-ref.js";
import type { RemoteUses } from "../../runner/engine/action-ref.js";
import { SandboxedError } from "../../runner/errors/index.js";
import { startActionArchiveServer } from "../support/action-archive-server.js";
import type { ActionArchiveServer, StandInCommit } from "../support/action-archive-server.js";

const GET_COMMIT = "https://docs.github.com/en/rest/commits/commits#get-a-commit";
const TARBALL = "https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar";
const at = { file: ".github/workflows/ci.yml", line: 9, col: 15 };
const sha = (digit: string) => digit.repeat(40);
const A = sha("a");
const B = sha("b");
const ACTION = "name: hello\ndescription: d\nruns:\n  using: node24\n  main: index.js\n";
const good = (text: string): StandInCommit => ({
  files: { "action.yml": ACTION, "index.js": text, "sub/action.yml": ACTION },
  symlinks: { "lib/current.js": "../index.js" },
});

/** Archives GitHub never serves: each forged with GNU tar from otherwise plain files. */
const HOSTILE: Record<string, { ref: string; commit: StandInCommit; why: string }> = {
  dotdot: {
    ref: sha("1"),
    commit: {
      files: { evil: "x" },
      tarArgs: ["-P", "--transform", "s,^\\([^/]*\\)/evil$,\\1/../../evil,"],
    },
    why: "'..' in octo-hostile-1111111/../../evil",
  },
  absolute: {
    ref: sha("2"),
    commit: {
      files: { evil: "x" },
      tarArgs: ["-P", "--transform", "s,^[^/]*/evil$,/tmp/sbx-evil,"],
    },
    why: "absolute path /tmp/sbx-evil",
  },
  "link out": {
    ref: sha("3"),
    commit: { files: { "action.yml": ACTION }, symlinks: { "lib/out": "../../../etc/passwd" } },
    why: "symbolic link octo-hostile-3333333/lib/out points outside the action (../../../etc/passwd)",
  },
  "absolute link": {
    ref: sha("4"),
    commit: { files: { "action.yml": ACTION }, symlinks: { passwd: "/etc/passwd" } },
    why: "symbolic link octo-hostile-4444444/passwd points outside the action (/etc/passwd)",
  },
  "hard link": {
    ref: sha("5"),
    commit: { files: { "action.yml": ACTION }, hardlinks: { hard: "action.yml" } },
    why: "octo-hostile-5555555/hard has type 'h' (only files, folders and symbolic links)",
  },
  "file below a link": {
    ref: sha("6"),
    commit: {
      files: { "real/x": "x" },
      symlinks: { lib: "real" },
      tarArgs: ["--transform", "s,^\\([^/]*\\)/real/x$,\\1/lib/x,"],
    },
    why: "octo-hostile-6666666/lib/x is below a link",
  },
  "member outside the top folder": {
    ref: sha("7"),
    commit: { files: { stray: "x" }, tarArgs: ["--transform", "s,^[^/]*/stray$,stray,"] },
    why: "stray is outside the top folder octo-hostile-7777777/",
  },
};

let server: ActionArchiveServer;
let cacheDir = "";
let decisions: EgressDecisionEvent[] = [];

beforeAll(async () => {
  server = await startActionArchiveServer({
    "octo/hello": { refs: { v1: A, main: B }, commits: { [A]: good("v1"), [B]: good("main") } },
    "octo/hostile": {
      refs: {},
      commits: Object.fromEntries(Object.values(HOSTILE).map((h) => [h.ref, h.commit])),
    },
  });
});
afterAll(() => server.close());
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), "action-cache-"));
  decisions = [];
  server.requests.length = 0;
  server.override = undefined;
  server.repos["octo/hello"]!.refs.v1 = A;
});
afterEach(() => rm(cacheDir, { recursive: true, force: true }));

function cache(options: Partial<ActionCacheOptions> = {}) {
  return createActionCache({
    cacheDir,
    apiUrl: server.apiUrl,
    fetch,
    decide: () => ({ allowed: true, reason: "host-rule", rule: "github-actions" }),
    onDecision: (event) => decisions.push(event),
    ...options,
  });
}
const uses = (text: string) => parseUses(text, at) as RemoteUses;

async function refusal(promise: Promise<unknown>): Promise<SandboxedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SandboxedError);
  return error as SandboxedError;
}

describe("resolve", () => {
  it(`fetches, extracts and caches by commit (${GET_COMMIT}, ${TARBALL})`, async () => {
    const got = await cache().resolve(uses("octo/hello@v1"));
    const root = path.join(cacheDir, "octo", "hello", A);
    expect(got).toEqual({ sha: A, root, dir: root, cached: false });
    expect(await readFile(path.join(root, "index.js"), "utf8")).toBe("v1");
    expect(await readFile(path.join(root, "action.yml"), "utf8")).toBe(ACTION);
    expect(await readlink(path.join(root, "lib", "current.js"))).toBe("../index.js");
    expect(JSON.parse(await readFile(`${root}.complete`, "utf8"))).toEqual({
      uses: "octo/hello@v1",
      sha: A,
    });
    expect(await readdir(path.join(cacheDir, ".tmp"))).toEqual([]);
    expect(server.requests.map((r) => [r.listener, r.path, r.accept])).toEqual([
      ["api", "/repos/octo/hello/commits/v1", "application/vnd.github.sha"],
      ["api", `/repos/octo/hello/tarball/${A}`, "application/vnd.github+json"],
      ["codeload", `/octo/hello/legacy.tar.gz/${A}`, "application/vnd.github+json"],
    ]);
    // Each hop asked the policy, the redirect target included.
    const allow = { verdict: "allow", reason: "host-rule", rule: "github-actions" };
    expect(decisions).toEqual([
      { host: "127.0.0.1", port: server.apiPort, ...allow },
      { host: "127.0.0.1", port: server.apiPort, ...allow },
      { host: "127.0.0.1", port: server.codeloadPort, ...allow },
    ]);
  });

  it("resolves a tag again but downloads nothing when its commit is cached", async () => {
    await cache().resolve(uses("octo/hello@v1"));
    const again = await cache().resolve(uses("octo/hello@v1"));
    expect(again).toMatchObject({ sha: A, cached: true });
    expect(server.count("api", "/commits/")).toBe(2);
    expect(server.count("api", "/tarball/")).toBe(1);
    expect(server.count("codeload")).toBe(1);
  });

  it("needs no request at all for a full SHA already cached", async () => {
    await cache().resolve(uses(`octo/hello@${A}`));
    server.requests.length = 0;
    decisions = [];
    expect(await cache().resolve(uses(`octo/hello@${A}`))).toMatchObject({ sha: A, cached: true });
    expect(server.requests).toEqual([]);
    expect(decisions).toEqual([]);
  });

  it("re-resolves a moved tag to its new commit", async () => {
    const first = await cache().resolve(uses("octo/hello@v1"));
    server.repos["octo/hello"]!.refs.v1 = B;
    const second = await cache().resolve(uses("octo/hello@v1"));
    expect([first.sha, second.sha, second.cached]).toEqual([A, B, false]);
    expect(await readFile(path.join(second.root, "index.js"), "utf8")).toBe("main");
    expect(await readFile(path.join(first.root, "index.js"), "utf8")).toBe("v1");
  });

  it("points dir at the subfolder a uses: names, with owner and repo in lower case", async () => {
    const got = await cache().resolve(uses("Octo/Hello/sub@v1"));
    expect(got.root).toBe(path.join(cacheDir, "octo", "hello", A));
    expect(got.dir).toBe(path.join(got.root, "sub"));
    expect(await readFile(path.join(got.dir, "action.yml"), "utf8")).toBe(ACTION);
  });

  it("downloads a commit once when two steps ask for it at the same time", async () => {
    const c = cache();
    const both = await Promise.all([
      c.resolve(uses(`octo/hello@${A}`)),
      c.resolve(uses(`octo/hello/sub@${A}`)),
    ]);
    expect(both.map((r) => [r.sha, r.cached])).toEqual([
      [A, false],
      [A, false],
    ]);
    expect(server.count("codeload")).toBe(1);
  });

  it("sends the token to the API only, never to the redirect target", async () => {
    await cache({ token: "ghs_secret" }).resolve(uses("octo/hello@v1"));
    expect(server.requests.map((r) => [r.listener, r.authorization])).toEqual([
      ["api", "Bearer ghs_secret"],
      ["api", "Bearer ghs_secret"],
      ["codeload", undefined],
    ]);
  });
});

describe("egress", () => {
  it.each<{ name: string; docs: string; deny: "api" | "codeload"; requests: number }>([
    {
      name: "API host denied: nothing is requested",
      docs: "docs/policy.md (extends: [github-actions])",
      deny: "api",
      requests: 0,
    },
    {
      name: "redirect target denied: the hop is checked too",
      docs: TARBALL,
      deny: "codeload",
      requests: 2,
    },
  ])("$name", async ({ deny, requests }) => {
    const port = deny === "api" ? server.apiPort : server.codeloadPort;
    const decide = (_host: string, p: number) =>
      p === port
        ? { allowed: false, reason: "no-matching-rule" }
        : { allowed: true, reason: "host-rule", rule: "github-actions" };
    const error = await refusal(cache({ decide }).resolve(uses("octo/hello@v1")));
    expect(error).toMatchObject({
      code: "SBX_ENGINE_ACTION_EGRESS_DENIED",
      message: `The sandbox policy does not allow 127.0.0.1:${port} (no-matching-rule), needed to fetch octo/hello@v1`,
      hint: "add 127.0.0.1 to network.allow in .github/sandbox-policy.yml, or extends: [github-actions]",
      source: at,
    });
    expect(server.requests).toHaveLength(requests);
    expect(decisions.at(-1)).toEqual({
      host: "127.0.0.1",
      port,
      verdict: "deny",
      reason: "no-matching-rule",
      rule: undefined,
    });
  });
});

describe("API failures", () => {
  const API_HINT = "Check that apiUrl is GitHub's REST API (https://api.github.com) and reachable.";
  it.each<{
    name: string;
    docs: string;
    uses: string;
    reply?: { status: number; headers?: Record<string, string>; body?: string };
    code: string;
    message: string;
    hint: string;
  }>([
    {
      name: "unknown repository: 404",
      docs: GET_COMMIT,
      uses: "octo/nope@v1",
      code: "SBX_ENGINE_ACTION_NOT_FOUND",
      message: `Unable to resolve action octo/nope@v1: GET <api>/repos/octo/nope/commits/v1 answered 404 "{\\"message\\":\\"Not Found\\"}"`,
      hint: "Check the owner/repo and the ref after '@' in uses: octo/nope@v1 (a private repository needs a token).",
    },
    {
      name: "unknown ref: 422 No commit found",
      docs: GET_COMMIT,
      uses: "octo/hello@v9",
      code: "SBX_ENGINE_ACTION_NOT_FOUND",
      message: "No commit found for SHA: v9",
      hint: "Check the owner/repo and the ref after '@' in uses: octo/hello@v9 (a private repository needs a token).",
    },
    {
      name: "a reply that is not a SHA names the URL and what came back",
      docs: GET_COMMIT,
      uses: "octo/hello@v1",
      reply: { status: 200, body: `<html>${"x".repeat(300)}</html>` },
      code: "SBX_ENGINE_ACTION_API",
      message: `GET <api>/repos/octo/hello/commits/v1 answered 200 but not a 40-hex commit SHA: "<html>${"x".repeat(194)}"… (313 chars)`,
      hint: API_HINT,
    },
    {
      name: "rate limit spent",
      docs: "https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api",
      uses: "octo/hello@v1",
      reply: { status: 403, headers: { "x-ratelimit-remaining": "0" }, body: "rate limit" },
      code: "SBX_ENGINE_ACTION_API",
      message: `Fetching octo/hello@v1: GET <api>/repos/octo/hello/commits/v1 answered 403 "rate limit"`,
      hint: "GitHub's API rate limit is spent: give the runner a token, or wait for the reset.",
    },
    {
      name: "endless redirects",
      docs: TARBALL,
      uses: "octo/hello@v1",
      reply: { status: 302, headers: { location: "/again" } },
      code: "SBX_ENGINE_ACTION_API",
      message: 'answered 302 with Location "/again" (at most 5 redirects',
      hint: API_HINT,
    },
    {
      name: "a short SHA (GitHub's refusal)",
      docs: "https://docs.github.com/en/actions/reference/security/secure-use#using-third-party-actions",
      uses: "octo/hello@aaaaaaa",
      reply: { status: 200, body: A },
      code: "SBX_ENGINE_ACTION_SHORT_SHA",
      message: `Unable to resolve action \`octo/hello@aaaaaaa\`, the provided ref \`aaaaaaa\` is the shortened version of a commit SHA, which is not supported. Please use the full commit SHA \`${A}\` instead.`,
      hint: `uses: octo/hello@${A}`,
    },
  ])("$name", async ({ uses: text, reply, code, message, hint }) => {
    server.override = reply === undefined ? undefined : () => reply;
    const error = await refusal(cache().resolve(uses(text)));
    expect({ code: error.code, hint: error.hint, source: error.source }).toEqual({
      code,
      hint,
      source: at,
    });
    expect(error.message.replaceAll(server.apiUrl, "<api>")).toContain(message);
  });

  it("reports a network failure with the URL", async () => {
    const failing: FetchLike = () => Promise.reject(new Error("connect ECONNREFUSED"));
    const error = await refusal(cache({ fetch: failing }).resolve(uses("octo/hello@v1")));
    expect(error).toMatchObject({
      code: "SBX_ENGINE_ACTION_NETWORK",
      message: `Could not fetch ${server.apiUrl}/repos/octo/hello/commits/v1 for octo/hello@v1: connect ECONNREFUSED`,
      hint: `Check that this host can reach 127.0.0.1:${server.apiPort} (DNS, proxy, firewall).`,
    });
  });
});

describe("archives", () => {
  it.each(Object.entries(HOSTILE).map(([name, h]) => ({ name, docs: TARBALL, ...h })))(
    "$name",
    async ({ ref, why }) => {
      const error = await refusal(cache().resolve(uses(`octo/hostile@${ref}`)));
      expect(error).toMatchObject({
        code: "SBX_ENGINE_ACTION_ARCHIVE_UNSAFE",
        message: `Refused the archive of octo/hostile@${ref}: ${why}`,
        hint: "GitHub's archives never hold this: check apiUrl and the network path to it.",
        source: at,
      });
      // Nothing lands in the cache, and the temporary folder is gone.
      expect(await readdir(cacheDir)).toEqual([".tmp"]);
      expect(await readdir(path.join(cacheDir, ".tmp"))).toEqual([]);
    },
  );

  it.each([
    {
      name: "archive over maxArchiveBytes",
      docs: TARBALL,
      options: { maxArchiveBytes: 100 },
      message: "The archive of octo/hello@v1 is larger than 100 bytes (",
    },
    {
      name: "files over maxUnpackedBytes",
      docs: TARBALL,
      options: { maxUnpackedBytes: 10 },
      message: "The files of octo/hello@v1 add up to more than 10 bytes",
    },
  ])("$name", async ({ options, message }) => {
    const error = await refusal(cache(options).resolve(uses("octo/hello@v1")));
    expect(error).toMatchObject({
      code: "SBX_ENGINE_ACTION_TOO_LARGE",
      hint: "Use a smaller action, or pin one that does not vendor large files.",
    });
    expect(error.message).toContain(message);
  });

  it("takes an archive just under the caps", async () => {
    const got = await cache({ maxUnpackedBytes: ACTION.length * 2 + 2 }).resolve(
      uses("octo/hello@v1"),
    );
    expect(got.cached).toBe(false);
  });
});
