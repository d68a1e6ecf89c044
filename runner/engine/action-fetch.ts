/**
 * Fetches remote actions onto the host, under the sandbox's egress policy, cached by commit.
 *
 * Two REST calls, as GitHub documents them:
 * - `GET /repos/{owner}/{repo}/commits/{ref}` with `Accept: application/vnd.github.sha` answers
 *   the bare 40-hex SHA (https://docs.github.com/en/rest/commits/commits#get-a-commit; media types:
 *   https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api#media-types).
 *   An unknown repository is 404, an unknown ref 422 "No commit found for SHA".
 * - `GET /repos/{owner}/{repo}/tarball/{ref}` redirects to codeload.github.com, which serves a
 *   tar.gz with one top folder `owner-repo-sha7/`
 *   (https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar).
 *
 * Every request and every redirect hop asks `decide(host, port)` first, so a policy without
 * api.github.com and codeload.github.com fetches nothing. Archives are listed with GNU tar and
 * refused if any member could land outside the cache folder, extracted into a temporary folder,
 * and renamed into place: a cache folder is complete or absent.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, readlink, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { execa } from "execa";
import { SandboxedError } from "../errors/index.js";
import type { RemoteUses } from "./action-ref.js";

export interface EgressCheck {
  readonly allowed: boolean;
  readonly reason: string;
  readonly rule?: string;
}

export interface EgressDecisionEvent {
  readonly host: string;
  readonly port: number;
  readonly verdict: "allow" | "deny";
  readonly reason: string;
  readonly rule?: string;
}

/** The part of `fetch` we use; the global `fetch` fits. Redirects are followed here, by hand. */
export type FetchLike = (
  url: string,
  init: {
    readonly method: "GET";
    readonly headers: Readonly<Record<string, string>>;
    readonly redirect: "manual";
    readonly signal?: AbortSignal;
  },
) => Promise<Response>;

export interface ActionCacheOptions {
  readonly cacheDir: string;
  /** `https://api.github.com`, or a GitHub Enterprise Server's `https://host/api/v3`. */
  readonly apiUrl: string;
  readonly fetch: FetchLike;
  readonly decide: (host: string, port: number) => EgressCheck;
  readonly onDecision?: (event: EgressDecisionEvent) => void;
  /** Sent to the API's origin only, never to a redirect target. */
  readonly token?: string;
  /** Cap on the downloaded archive. Default 200 MiB. */
  readonly maxArchiveBytes?: number;
  /** Cap on the sum of the archive's file sizes (a gzip bomb guard). Default 1 GiB. */
  readonly maxUnpackedBytes?: number;
  readonly maxRedirects?: number;
  readonly requestTimeoutMs?: number;
}

export interface ResolvedAction {
  readonly sha: string;
  /** The repository's files at `sha`. */
  readonly root: string;
  /** `root`, or the action's folder inside it when `uses:` names a path. */
  readonly dir: string;
  /** True when nothing was downloaded. */
  readonly cached: boolean;
}

export interface ActionCache {
  resolve(ref: RemoteUses): Promise<ResolvedAction>;
}

interface State {
  readonly options: ActionCacheOptions;
  readonly api: string;
  readonly apiOrigin: string;
  readonly maxArchiveBytes: number;
  readonly maxUnpackedBytes: number;
  readonly maxRedirects: number;
  readonly timeoutMs: number;
  /** One download per commit at a time, however many steps name it. */
  readonly inFlight: Map<string, Promise<void>>;
}

const MiB = 1024 * 1024;
const SHA = /^[0-9a-f]{40}$/;
const COMPLETE = ".complete";
const exists = (file: string): Promise<boolean> => lstat(file).then(Boolean, () => false);
const API_HINT = "Check that apiUrl is GitHub's REST API (https://api.github.com) and reachable.";
const HEADERS = { "user-agent": "sandboxed", "x-github-api-version": "2022-11-28" };
const SIZE_HINT = "Use a smaller action, or pin one that does not vendor large files.";

export function createActionCache(options: ActionCacheOptions): ActionCache {
  const api = options.apiUrl.replace(/\/+$/, "");
  const state: State = {
    options,
    api,
    apiOrigin: new URL(api).origin,
    maxArchiveBytes: options.maxArchiveBytes ?? 200 * MiB,
    maxUnpackedBytes: options.maxUnpackedBytes ?? 1024 * MiB,
    maxRedirects: options.maxRedirects ?? 5,
    timeoutMs: options.requestTimeoutMs ?? 120_000,
    inFlight: new Map(),
  };
  return { resolve: (ref) => resolve(state, ref) };
}

async function resolve(state: State, ref: RemoteUses): Promise<ResolvedAction> {
  // A full SHA names itself: a cached copy needs no network at all. Tags and branches move, so
  // they are resolved every time.
  const sha = SHA.test(ref.ref) ? ref.ref : await resolveSha(state, ref);
  // Owner and repository names ignore case on GitHub: one folder per repository.
  const names = [ref.owner, ref.repo].map((name) => name.toLowerCase());
  const root = path.join(state.options.cacheDir, ...names, sha);
  const dir = ref.path === undefined ? root : path.join(root, ...ref.path.split("/"));
  if ((await exists(root + COMPLETE)) && (await exists(root))) {
    return { sha, root, dir, cached: true };
  }
  let pending = state.inFlight.get(root);
  if (pending === undefined) {
    pending = download(state, ref, sha, root).finally(() => state.inFlight.delete(root));
    state.inFlight.set(root, pending);
  }
  await pending;
  return { sha, root, dir, cached: false };
}

async function resolveSha(state: State, ref: RemoteUses): Promise<string> {
  const url = apiPath(state, ref, "commits", ref.ref);
  const response = await request(state, url, "application/vnd.github.sha", ref);
  const body = (await response.text()).trim();
  if (!SHA.test(body)) {
    const message = `GET ${url} answered ${response.status} but not a 40-hex commit SHA: ${truncate(body)}`;
    throw fail("SBX_ENGINE_ACTION_API", message, API_HINT, ref);
  }
  if (/^[0-9a-f]{7,39}$/.test(ref.ref) && body.startsWith(ref.ref)) {
    // GitHub's refusal, word for word (act's uses-github-short-sha test has it too).
    const message = `Unable to resolve action \`${ref.uses}\`, the provided ref \`${ref.ref}\` is the shortened version of a commit SHA, which is not supported. Please use the full commit SHA \`${body}\` instead.`;
    const hint = `uses: ${ref.uses.replace(/@[^@]*$/, `@${body}`)}`;
    throw fail("SBX_ENGINE_ACTION_SHORT_SHA", message, hint, ref);
  }
  return body;
}

async function download(state: State, ref: RemoteUses, sha: string, root: string): Promise<void> {
  // Inside cacheDir so that the final rename stays on one file system (and is atomic).
  const tmp = path.join(state.options.cacheDir, ".tmp", randomBytes(8).toString("hex"));
  await mkdir(tmp, { recursive: true });
  try {
    const url = apiPath(state, ref, "tarball", sha);
    const response = await request(state, url, "application/vnd.github+json", ref);
    const archive = path.join(tmp, "archive.tar.gz");
    await saveCapped(state, response, archive, ref);
    const tree = path.join(tmp, "tree");
    await mkdir(tree);
    await extract(state, archive, tree, ref);
    await mkdir(path.dirname(root), { recursive: true });
    try {
      await rename(tree, root);
    } catch (error) {
      // Another process finished the same commit first; its copy is as good as ours.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EEXIST" && code !== "ENOTEMPTY") throw error;
    }
    await writeFile(root + COMPLETE, `${JSON.stringify({ uses: ref.uses, sha })}\n`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function apiPath(state: State, ref: RemoteUses, endpoint: string, name: string): string {
  const encoded = name.split("/").map(encodeURIComponent).join("/");
  return `${state.api}/repos/${ref.owner}/${ref.repo}/${endpoint}/${encoded}`;
}

/** GET with the egress check before every hop; returns the final 2xx response. */
async function request(state: State, url: string, accept: string, ref: RemoteUses) {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    checkEgress(state, current, ref);
    const headers: Record<string, string> = { ...HEADERS, accept };
    if (state.options.token !== undefined && current.origin === state.apiOrigin) {
      headers.authorization = `Bearer ${state.options.token}`;
    }
    let response: Response;
    try {
      const signal = AbortSignal.timeout(state.timeoutMs);
      response = await state.options.fetch(current.href, {
        method: "GET",
        headers,
        redirect: "manual",
        signal,
      });
    } catch (error) {
      const message = `Could not fetch ${current.href} for ${ref.uses}: ${(error as Error).message}`;
      const hint = `Check that this host can reach ${current.host} (DNS, proxy, firewall).`;
      throw fail("SBX_ENGINE_ACTION_NETWORK", message, hint, ref, error);
    }
    if (response.status < 300 || response.status >= 400) {
      if (response.ok) return response;
      throw await httpError(current, response, ref);
    }
    const location = response.headers.get("location");
    const next = location === null ? undefined : new URL(location, current);
    if (hop >= state.maxRedirects || next === undefined || !safeHop(current, next)) {
      const where = location === null ? "no Location" : `Location ${truncate(location)}`;
      const message = `GET ${current.href} answered ${response.status} with ${where} (at most ${state.maxRedirects} redirects, to http or https, never https to http)`;
      throw fail("SBX_ENGINE_ACTION_API", message, API_HINT, ref);
    }
    current = next;
  }
}

function safeHop(from: URL, to: URL): boolean {
  if (to.protocol !== "https:" && to.protocol !== "http:") return false;
  return !(from.protocol === "https:" && to.protocol === "http:");
}

function checkEgress(state: State, url: URL, ref: RemoteUses): void {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  const check = state.options.decide(host, port);
  const { reason, rule } = check;
  const verdict = check.allowed ? "allow" : "deny";
  state.options.onDecision?.({ host, port, verdict, reason, rule });
  if (!check.allowed) {
    const message = `The sandbox policy does not allow ${host}:${port} (${reason}), needed to fetch ${ref.uses}`;
    const hint = `add ${host} to network.allow in .github/sandbox-policy.yml, or extends: [github-actions]`;
    throw fail("SBX_ENGINE_ACTION_EGRESS_DENIED", message, hint, ref);
  }
}

async function httpError(url: URL, response: Response, ref: RemoteUses): Promise<SandboxedError> {
  const body = truncate((await response.text().catch(() => "")).trim());
  const answered = `GET ${url.href} answered ${response.status} ${body}`;
  if (response.status === 404 || response.status === 422) {
    const hint = `Check the owner/repo and the ref after '@' in uses: ${ref.uses} (a private repository needs a token).`;
    const message = `Unable to resolve action ${ref.uses}: ${answered}`;
    return fail("SBX_ENGINE_ACTION_NOT_FOUND", message, hint, ref);
  }
  const limited = response.status === 429 || response.headers.get("x-ratelimit-remaining") === "0";
  const hint = limited
    ? "GitHub's API rate limit is spent: give the runner a token, or wait for the reset."
    : API_HINT;
  return fail("SBX_ENGINE_ACTION_API", `Fetching ${ref.uses}: ${answered}`, hint, ref);
}

async function saveCapped(state: State, response: Response, file: string, ref: RemoteUses) {
  const max = state.maxArchiveBytes;
  const tooLarge = (seen: string) => {
    const message = `The archive of ${ref.uses} is larger than ${max} bytes (${seen})`;
    return fail("SBX_ENGINE_ACTION_TOO_LARGE", message, SIZE_HINT, ref);
  };
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > max) throw tooLarge(`Content-Length ${declared}`);
  let total = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.byteLength;
      done(total > max ? tooLarge(`${total} bytes received so far`) : null, chunk);
    },
  });
  // An empty body makes an empty file, which tar then refuses to list.
  const body = (response.body ?? []) as unknown as AsyncIterable<Uint8Array>;
  await pipeline(body, cap, createWriteStream(file));
}

interface Member {
  readonly type: string;
  readonly name: string;
  readonly size: number;
  readonly target?: string;
}

/**
 * Lists, checks, extracts, checks again. The listing uses --absolute-names so tar prints names as
 * stored (it would otherwise strip a leading `/` or `../` from what it shows), --numeric-owner so
 * no user name with spaces shifts columns, and escape quoting so one member is one line.
 */
async function extract(state: State, archive: string, tree: string, ref: RemoteUses) {
  const list = ["--absolute-names", "--numeric-owner", "--quoting-style=escape", "-tzf", archive];
  const [names, verbose] = await Promise.all([
    tar("list", list, ref),
    tar("list", ["--verbose", ...list], ref),
  ]);
  checkMembers(state, parseListing(names, verbose, ref), ref);
  const flags = ["--strip-components=1", "--no-same-owner", "--no-same-permissions"];
  await tar("extract", ["-xzf", archive, "-C", tree, ...flags], ref);
  await checkTree(tree, tree, ref);
}

async function tar(what: string, args: readonly string[], ref: RemoteUses): Promise<string> {
  const result = await execa("tar", args, { reject: false, env: { LC_ALL: "C" } });
  if (result.exitCode !== 0) {
    throw unsafe(ref, `tar could not ${what} it: ${truncate(String(result.stderr))}`);
  }
  return String(result.stdout);
}

/** Pairs `tar -t` (names) with `tar -tv` (type, size, link target) line by line. */
function parseListing(names: string, verbose: string, ref: RemoteUses): Member[] {
  const nameLines = names.split("\n").filter((l) => l !== "");
  const lines = verbose.split("\n").filter((l) => l !== "");
  if (nameLines.length !== lines.length) throw unsafe(ref, "the two tar listings disagree");
  return lines.map((line, i) => {
    const name = nameLines[i] ?? "";
    const type = line[0] ?? "?";
    const size = Number(/^\S+\s+\S+\s+(\d+)\s/.exec(line)?.[1] ?? NaN);
    if (type === "l") {
      // `… name -> target`: the name is known, so a ` -> ` inside it cannot mislead the split.
      const at = line.indexOf(` ${name} -> `);
      if (at < 0) throw unsafe(ref, `cannot read the link target of ${name}`);
      return { type, name, size: 0, target: line.slice(at + name.length + 5) };
    }
    // Other types are refused by checkMembers (a hard link's line ends `link to <target>`).
    if (type !== "-" && type !== "d") return { type, name, size: 0 };
    if (!line.endsWith(` ${name}`)) throw unsafe(ref, `cannot read the listing of ${name}`);
    return { type, name, size };
  });
}

function checkMembers(state: State, members: readonly Member[], ref: RemoteUses): void {
  const top = members[0]?.name.split("/")[0];
  if (top === undefined || top === "") throw unsafe(ref, "no top folder");
  const links = new Set(members.filter((m) => m.type === "l").map((m) => m.name));
  let unpacked = 0;
  for (const { type, name, size, target } of members) {
    const parts = name.replace(/\/$/, "").split("/");
    if (name.startsWith("/")) throw unsafe(ref, `absolute path ${name}`);
    if (parts.includes("..")) throw unsafe(ref, `'..' in ${name}`);
    if (parts[0] !== top) throw unsafe(ref, `${name} is outside the top folder ${top}/`);
    if (type !== "-" && type !== "d" && type !== "l") {
      // git archive writes files, folders and symbolic links only: a hard link, device or fifo
      // means the archive was not made by GitHub.
      throw unsafe(ref, `${name} has type '${type}' (only files, folders and symbolic links)`);
    }
    for (let i = 1; i < parts.length; i++) {
      if (links.has(parts.slice(0, i).join("/"))) throw unsafe(ref, `${name} is below a link`);
    }
    if (target !== undefined) {
      const inside = path.posix.normalize(path.posix.join(parts.slice(1, -1).join("/"), target));
      if (target.startsWith("/") || inside === ".." || inside.startsWith("../")) {
        throw unsafe(ref, `symbolic link ${name} points outside the action (${target})`);
      }
    }
    if (!Number.isFinite(size)) throw unsafe(ref, `cannot read the size of ${name}`);
    unpacked += size;
    if (unpacked > state.maxUnpackedBytes) {
      const message = `The files of ${ref.uses} add up to more than ${state.maxUnpackedBytes} bytes`;
      throw fail("SBX_ENGINE_ACTION_TOO_LARGE", message, SIZE_HINT, ref);
    }
  }
}

/** After extraction, the file system itself: every link must still resolve inside `root`. */
async function checkTree(root: string, dir: string, ref: RemoteUses): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await checkTree(root, full, ref);
    else if (entry.isSymbolicLink()) {
      const target = path.resolve(dir, await readlink(full));
      if (target !== root && !target.startsWith(root + path.sep)) {
        throw unsafe(ref, `symbolic link ${path.relative(root, full)} points outside the action`);
      }
    } else if (!entry.isFile()) throw unsafe(ref, `${path.relative(root, full)} is not a file`);
  }
}

function unsafe(ref: RemoteUses, why: string): SandboxedError {
  const hint = "GitHub's archives never hold this: check apiUrl and the network path to it.";
  return fail(
    "SBX_ENGINE_ACTION_ARCHIVE_UNSAFE",
    `Refused the archive of ${ref.uses}: ${why}`,
    hint,
    ref,
  );
}

function fail(code: string, message: string, hint: string, ref: RemoteUses, cause?: unknown) {
  return new SandboxedError(code, message, { hint, source: ref.source, cause });
}

function truncate(text: string, max = 200): string {
  const shown = JSON.stringify(text.slice(0, max));
  return text.length > max ? `${shown}… (${text.length} chars)` : shown;
}
