/**
 * The emulator's HTTP front: routes REST requests by GitHub's own path templates, authenticates,
 * applies injected faults, checks request bodies as GitHub does (422), and checks every reply
 * against GitHub's OpenAPI description before sending it. `/_runner/…` requests (the stand-in
 * runner's private protocol) skip all of that.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import type { Auth, Authenticator } from "./auth.js";
import { faultResponse } from "./faults.js";
import type { Faults } from "./faults.js";
import type { OpenApi } from "./openapi.js";
import type { EmulatorRequest, Violation } from "./types.js";

export interface RouteRequest {
  readonly method: string;
  readonly route: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Parsed JSON body (undefined when none was sent). */
  readonly body: unknown;
  readonly rawBody: string;
  readonly auth: Auth;
  readonly headers: IncomingHttpHeaders;
  /** The URL as requested, for Link headers. */
  readonly url: URL;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** A non-JSON body (e.g. `application/vnd.github.raw`); not checked against the schema. */
  readonly text?: { contentType: string; content: string };
}

export interface Route {
  readonly method: string;
  /** GitHub's OpenAPI path template, e.g. `/repos/{owner}/{repo}/actions/runs/{run_id}/jobs`. */
  readonly path: string;
  /** "token": a token or installation token; "app": the App's JWT. */
  readonly auth: "token" | "app";
  readonly handler: (request: RouteRequest) => Reply | Promise<Reply>;
}

export type RunnerHandler = (
  method: string,
  pathname: string,
  headers: IncomingHttpHeaders,
  body: string,
) => Reply;

export interface FrontOptions {
  readonly routes: readonly Route[];
  readonly runner: RunnerHandler;
  readonly openapi: OpenApi;
  readonly validate: boolean;
  readonly faults: Faults;
  readonly auth: Authenticator;
  readonly now: () => number;
  readonly rateLimitResetSeconds: number;
  readonly baseUrl: () => string;
  readonly requests: EmulatorRequest[];
  readonly violations: Violation[];
}

const MAX_BODY = 25 * 1024 * 1024;

export function githubError(status: number, message: string): Reply {
  return {
    status,
    body: { message, documentation_url: "https://docs.github.com/rest", status: String(status) },
  };
}

export function createFront(options: FrontOptions): Server {
  const compiled = options.routes.map((route) => ({
    route,
    pattern: new RegExp(
      `^${route.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, name: string) => (name === "path" ? "(?<path>.+)" : `(?<${name}>[^/]+)`))}$`,
    ),
  }));

  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      handle(req, res, raw).catch((error: unknown) => {
        if (!res.headersSent) send(res, githubError(500, `emulator bug: ${String(error)}`), "");
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const method = req.method ?? "GET";
    // Link headers name the host the client dialled (through a forwarder it differs from ours).
    const base = req.headers.host === undefined ? options.baseUrl() : `http://${req.headers.host}`;
    const url = new URL(req.url ?? "/", base);
    if (url.pathname.startsWith("/_runner/")) {
      send(res, options.runner(method, url.pathname, req.headers, raw), "");
      return;
    }
    const requestId = randomUUID().toUpperCase().slice(0, 23);
    let parsed: unknown;
    try {
      parsed = raw.trim() === "" ? undefined : (JSON.parse(raw) as unknown);
    } catch {
      parsed = undefined;
    }
    const log = (status: number, route: string | undefined, auth: Auth, fault = false) =>
      options.requests.push({
        method,
        path: `${url.pathname}${url.search}`,
        route,
        status,
        auth: auth.kind,
        body: parsed,
        fault,
        at: options.now(),
      });

    let match: { route: Route; params: Record<string, string> } | undefined;
    for (const { route, pattern } of compiled) {
      const m = route.method === method ? pattern.exec(url.pathname) : null;
      if (m !== null) {
        const params = Object.fromEntries(
          Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
        );
        match = { route, params };
        break;
      }
    }
    const auth = options.auth.identify(req.headers.authorization);
    if (match === undefined) {
      log(404, undefined, auth);
      send(res, githubError(404, "Not Found"), requestId);
      return;
    }
    const { route } = match;
    const finish = (reply: Reply, fault = false) => {
      const headers = send(res, reply, requestId);
      log(reply.status, route.path, auth, fault);
      if (!options.validate || fault || reply.text !== undefined) return;
      const body = reply.body === undefined ? "" : JSON.stringify(reply.body);
      const problems = options.openapi.checkResponse({
        method,
        route: route.path,
        status: reply.status,
        headers,
        body,
      });
      if (problems.length > 0) {
        options.violations.push({ method, route: route.path, status: reply.status, problems });
      }
    };

    const denied = authProblem(route, auth);
    if (denied !== undefined) return finish(denied);
    const fault = options.faults.take(method, url.pathname);
    if (fault !== undefined) {
      const who =
        auth.kind === "installation" ? `installation ID ${auth.installationId}` : "user ID 1";
      const f = faultResponse(fault, {
        nowMs: options.now(),
        resetSeconds: options.rateLimitResetSeconds,
        requestId,
        who,
      });
      return finish({ status: f.status, headers: f.headers, body: f.body }, true);
    }
    const body = parsed;
    if (raw.trim() !== "" && parsed === undefined) {
      return finish({
        status: 400,
        body: {
          message: "Problems parsing JSON",
          documentation_url: "https://docs.github.com/rest",
        },
      });
    }
    if (method !== "GET" && method !== "DELETE") {
      const invalid = options.openapi.checkRequestBody(method, route.path, body);
      if (invalid !== undefined) return finish(githubError(422, invalid));
    }
    const reply = await route.handler({
      method,
      route: route.path,
      params: match.params,
      query: url.searchParams,
      body,
      rawBody: raw,
      auth,
      headers: req.headers,
      url,
    });
    finish(reply);
  }

  function authProblem(route: Route, auth: Auth): Reply | undefined {
    if (route.auth === "app") {
      if (auth.kind === "app") return undefined;
      return githubError(
        401,
        auth.kind === "bad" ? auth.message : "A JSON web token could not be decoded",
      );
    }
    if (auth.kind === "token" || auth.kind === "installation") return undefined;
    if (auth.kind === "none") return githubError(401, "Requires authentication");
    if (auth.kind === "bad") return githubError(401, auth.message);
    return githubError(401, "Bad credentials");
  }

  /** Writes the reply with GitHub's usual headers; returns the headers sent (lower-case). */
  function send(res: ServerResponse, reply: Reply, requestId: string): Record<string, string> {
    const nowS = Math.floor(options.now() / 1000);
    const headers: Record<string, string> = {
      "x-github-api-version-selected": "2022-11-28",
      "x-github-media-type": "github.v3; format=json",
      ...(requestId === ""
        ? {}
        : {
            "x-github-request-id": requestId,
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": String(nowS + 3600),
            "x-ratelimit-used": "1",
            "x-ratelimit-resource": "core",
          }),
    };
    for (const [k, v] of Object.entries(reply.headers ?? {})) headers[k.toLowerCase()] = v;
    let payload = "";
    if (reply.text !== undefined) {
      headers["content-type"] = reply.text.contentType;
      payload = reply.text.content;
    } else if (reply.body !== undefined) {
      headers["content-type"] = "application/json; charset=utf-8";
      payload = JSON.stringify(reply.body);
    }
    res.writeHead(reply.status, headers);
    res.end(payload);
    return headers;
  }
}

/** GitHub's `Link` header for page-numbered lists, and the page's slice. */
export function paginate<T>(
  items: readonly T[],
  url: URL,
): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Math.max(Number(url.searchParams.get("per_page") ?? 30) || 30, 1), 100);
  const pageNo = Math.max(Number(url.searchParams.get("page") ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (page: number, rel: string) => {
    const u = new URL(url);
    u.searchParams.set("per_page", String(perPage));
    u.searchParams.set("page", String(page));
    return `<${u.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (pageNo > 1) links.push(link(pageNo - 1, "prev"));
  if (pageNo < last) links.push(link(pageNo + 1, "next"), link(last, "last"));
  if (pageNo > 1) links.push(link(1, "first"));
  return {
    page: items.slice((pageNo - 1) * perPage, pageNo * perPage),
    headers: links.length > 0 ? { link: links.join(", ") } : {},
  };
}
