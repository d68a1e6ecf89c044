/**
 * A STAND-IN for GitHub's REST API, for tests. GitHub's servers cannot be reached from here, so
 * this serves the two endpoints the action cache uses, shaped as GitHub documents them, from
 * in-memory repositories:
 *
 * - `GET /repos/{owner}/{repo}/commits/{ref}`: with `Accept: application/vnd.github.sha` the bare
 *   SHA as text, else JSON `{sha}`; 404 for an unknown repository, 422 "No commit found for SHA"
 *   for an unknown ref. https://docs.github.com/en/rest/commits/commits#get-a-commit
 * - `GET /repos/{owner}/{repo}/tarball/{ref}`: 302 to a second listener standing in for
 *   codeload.github.com (`/{owner}/{repo}/legacy.tar.gz/{ref}`), which serves a real tar.gz with
 *   one top folder `owner-repo-sha7/`, made by GNU tar.
 *   https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar
 *
 * Both listen on 127.0.0.1 on random ports; every request is recorded, so a test can show a
 * cache hit by the requests that did not happen.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile, link } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";

export interface StandInCommit {
  /** Path → content. */
  readonly files: Readonly<Record<string, string>>;
  /** Path → link target, stored as is. */
  readonly symlinks?: Readonly<Record<string, string>>;
  /** Path → existing file path it is a hard link of. GitHub never serves these. */
  readonly hardlinks?: Readonly<Record<string, string>>;
  /** Extra GNU tar arguments when packing, e.g. `-P --transform …` to forge hostile names. */
  readonly tarArgs?: readonly string[];
}

export interface StandInRepo {
  /** Tag or branch → SHA. Mutable: a test moves a tag by assigning. */
  readonly refs: Record<string, string>;
  readonly commits: Record<string, StandInCommit>;
}

export interface StandInRequest {
  readonly listener: "api" | "codeload";
  readonly path: string;
  readonly accept: string | undefined;
  readonly authorization: string | undefined;
}

export interface StandInReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ActionArchiveServer {
  /** `http://127.0.0.1:<port>`: give it as the cache's apiUrl. */
  readonly apiUrl: string;
  readonly apiPort: number;
  readonly codeloadPort: number;
  /** `"owner/repo"` → repository; looked up without case, as GitHub does. */
  readonly repos: Record<string, StandInRepo>;
  readonly requests: StandInRequest[];
  /** Replaces the answer to any request it returns a reply for. */
  override: ((request: StandInRequest) => StandInReply | undefined) | undefined;
  /** Requests so far to `listener` whose path contains `part`. */
  count(listener: "api" | "codeload", part?: string): number;
  close(): Promise<void>;
}

export async function startActionArchiveServer(
  repos: Record<string, StandInRepo>,
): Promise<ActionArchiveServer> {
  const archives = new Map<string, Promise<Buffer>>();
  const requests: StandInRequest[] = [];
  const find = (owner: string, repo: string) => {
    const key = Object.keys(repos).find(
      (k) => k.toLowerCase() === `${owner}/${repo}`.toLowerCase(),
    );
    return key === undefined ? undefined : { key, repo: repos[key]! };
  };
  const shaOf = (repo: StandInRepo, ref: string) =>
    repo.refs[ref] ?? (repo.commits[ref] === undefined ? undefined : ref);

  const codeload = await listen((req, res, request) => {
    const m = /^\/([^/]+)\/([^/]+)\/legacy\.tar\.gz\/(.+)$/.exec(request.path);
    const found = m ? find(m[1]!, m[2]!) : undefined;
    const sha = found && shaOf(found.repo, decodeURIComponent(m![3]!));
    if (found === undefined || sha === undefined) return send(res, 404, "Not Found");
    const top = `${found.key.replace("/", "-")}-${sha.slice(0, 7)}`;
    const key = `${found.key}@${sha}`;
    if (!archives.has(key)) archives.set(key, pack(top, found.repo.commits[sha]!));
    void archives.get(key)!.then((body) => {
      res.writeHead(200, { "content-type": "application/x-gzip", "content-length": body.length });
      res.end(body);
    });
  }, "codeload");

  const api = await listen((req, res, request) => {
    const m = /^\/repos\/([^/]+)\/([^/]+)\/(commits|tarball)\/(.+)$/.exec(request.path);
    if (m === null) return json(res, 404, { message: "Not Found" });
    const found = find(m[1]!, m[2]!);
    if (found === undefined) return json(res, 404, { message: "Not Found" });
    const ref = decodeURIComponent(m[4]!);
    const sha = shaOf(found.repo, ref);
    if (m[3] === "tarball") {
      if (sha === undefined) return json(res, 404, { message: "Not Found" });
      const location = `http://127.0.0.1:${codeload.port}/${m[1]}/${m[2]}/legacy.tar.gz/${m[4]}`;
      res.writeHead(302, { location });
      return res.end();
    }
    if (sha === undefined) return json(res, 422, { message: `No commit found for SHA: ${ref}` });
    if (request.accept === "application/vnd.github.sha") return send(res, 200, sha);
    return json(res, 200, { sha });
  }, "api");

  const handle: ActionArchiveServer = {
    apiUrl: `http://127.0.0.1:${api.port}`,
    apiPort: api.port,
    codeloadPort: codeload.port,
    repos,
    requests,
    override: undefined,
    count: (listener, part = "") =>
      requests.filter((r) => r.listener === listener && r.path.includes(part)).length,
    close: async () => {
      await Promise.all([api.close(), codeload.close()]);
    },
  };
  return handle;

  async function listen(
    route: (req: IncomingMessage, res: ServerResponse, request: StandInRequest) => void,
    listener: StandInRequest["listener"],
  ): Promise<{ port: number; close: () => Promise<void> }> {
    const server: Server = createServer((req, res) => {
      const request: StandInRequest = {
        listener,
        path: (req.url ?? "/").split("?")[0]!,
        accept: req.headers.accept,
        authorization: req.headers.authorization,
      };
      requests.push(request);
      const reply = handle.override?.(request);
      if (reply !== undefined) {
        res.writeHead(reply.status, reply.headers);
        return res.end(reply.body ?? "");
      }
      route(req, res, request);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as AddressInfo).port;
    const close = () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      });
    return { port, close };
  }
}

/** Packs a commit as GitHub would: one top folder, deterministic order, owner 0. */
export async function pack(top: string, commit: StandInCommit): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), "stand-in-archive-"));
  try {
    const at = (name: string) => path.join(dir, top, name);
    await mkdir(path.join(dir, top), { recursive: true });
    for (const [name, content] of Object.entries(commit.files)) {
      await mkdir(path.dirname(at(name)), { recursive: true });
      await writeFile(at(name), content);
    }
    for (const [name, target] of Object.entries(commit.symlinks ?? {})) {
      await mkdir(path.dirname(at(name)), { recursive: true });
      await symlink(target, at(name));
    }
    for (const [name, existing] of Object.entries(commit.hardlinks ?? {})) {
      await link(at(existing), at(name));
    }
    const args = ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0"];
    const result = await execa(
      "tar",
      ["-czf", "-", ...args, ...(commit.tarArgs ?? []), "-C", dir, top],
      { encoding: "buffer" },
    );
    return Buffer.from(result.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}
