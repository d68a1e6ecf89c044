/**
 * Checks of single values in the service config: durations, sizes, listen addresses, URLs,
 * repository and label names. Pure functions over a string, each giving a problem and its fix
 * (STYLE H5), so the schema (schema.ts) and the findings (issues.ts) share one definition.
 */
import path from "node:path";
import { formatDuration, parseDuration, parseSize } from "../policy/index.js";
import type { Listen } from "./types.js";

/** `redact`: the value must not be repeated in a message (it may be a pasted secret). */
export type Check = { ok: true } | { ok: false; problem: string; hint: string; redact?: boolean };

const OK: Check = { ok: true };
const bad = (problem: string, hint: string): Check => ({ ok: false, problem, hint });

const DURATION_FORM = "whole days, hours, minutes and seconds, e.g. 14d, 5m or 1h30m";
/** Policy's wording of its (day-less) form, replaced by ours in its hints. */
const POLICY_DURATION_FORM = "whole hours, minutes and seconds, e.g. 2h, 90m or 1h30m";

/**
 * Milliseconds for a duration such as `5m` or `14d`. Policy durations stop at hours (jobs run
 * for hours); log retention is counted in days, so the config also takes a leading `<n>d`.
 */
export function parseConfigDuration(
  text: string,
): { ok: true; ms: number } | { ok: false; hint: string } {
  const days = /^([1-9][0-9]*)d(.*)$/.exec(text);
  if (days) {
    const rest = days[2] ?? "";
    const restSeconds = rest === "" ? { ok: true as const, value: 0 } : parseDuration(rest);
    if (restSeconds.ok)
      return { ok: true, ms: (Number(days[1]) * 86400 + restSeconds.value) * 1000 };
    return { ok: false, hint: `write ${DURATION_FORM}` };
  }
  const parsed = parseDuration(text);
  if (parsed.ok) return { ok: true, ms: parsed.value * 1000 };
  // Days and weeks spelled out: policy's hint would say hours, the config takes days.
  const spelled = /^\s*([1-9][0-9]*)\s*(d|days?|w|weeks?)\s*$/i.exec(text);
  if (spelled) {
    const days = Number(spelled[1]) * (spelled[2]!.toLowerCase().startsWith("w") ? 7 : 1);
    return { ok: false, hint: `write ${days}d` };
  }
  return { ok: false, hint: parsed.hint.replace(POLICY_DURATION_FORM, DURATION_FORM) };
}

export function formatConfigDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const days = Math.floor(seconds / 86400);
  const rest = seconds % 86400;
  return `${days ? `${days}d` : ""}${rest || !days ? formatDuration(rest) : ""}`;
}

export function checkDuration(text: string): Check {
  const parsed = parseConfigDuration(text);
  return parsed.ok ? OK : bad(`not ${DURATION_FORM}`, parsed.hint);
}

export function checkSize(text: string): Check {
  const parsed = parseSize(text);
  return parsed.ok
    ? OK
    : bad("not a whole number with KiB, MiB, GiB or TiB, e.g. 16GiB", parsed.hint);
}

/** A Unix socket path longer than this does not fit in sockaddr_un.sun_path (108 bytes). */
const MAX_SOCKET_PATH = 107;
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const LISTEN_FORM = "host:port or unix:/absolute/path, e.g. 127.0.0.1:8080";

/** `host:port`, `[v6]:port` or `unix:/abs/path`, in the shape `net.Server.listen` takes. */
export function parseListen(
  text: string,
): { ok: true; value: Listen } | { ok: false; problem: string; hint: string } {
  if (text.startsWith("unix:")) {
    const file = text.slice("unix:".length);
    if (!path.posix.isAbsolute(file)) {
      return {
        ok: false,
        problem: "a socket path must be absolute",
        hint: `write unix:/run/sandboxed/${path.posix.basename(file) || "webhook.sock"}`,
      };
    }
    if (path.posix.normalize(file) !== file || file.endsWith("/") || file.includes("\0")) {
      return {
        ok: false,
        problem: "a socket path must be in normal form",
        hint: `write unix:${path.posix.normalize(file).replace(/\/$/, "").replace(/\0/g, "")}`,
      };
    }
    if (Buffer.byteLength(file) > MAX_SOCKET_PATH) {
      return {
        ok: false,
        problem: `the socket path is ${Buffer.byteLength(file)} bytes; Linux allows ${MAX_SOCKET_PATH}`,
        hint: "use a shorter path, e.g. unix:/run/sandboxed/webhook.sock",
      };
    }
    return { ok: true, value: { path: file } };
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/]+)/i.exec(text);
  if (url) return { ok: false, problem: "a listen address is not a URL", hint: `write ${url[1]}` };
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):([0-9]+)$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3];
  if (!m || host === undefined || port === undefined) {
    return {
      ok: false,
      problem: `not ${LISTEN_FORM}`,
      hint: /^[0-9]+$/.test(text)
        ? `write 127.0.0.1:${text} for this host only, or 0.0.0.0:${text} for all interfaces`
        : `write ${LISTEN_FORM}`,
    };
  }
  if (host === "") {
    return {
      ok: false,
      problem: "the host is missing",
      hint: `write 127.0.0.1:${port} for this host only, or 0.0.0.0:${port} for all interfaces`,
    };
  }
  if (m[1] === undefined && !HOST_NAME.test(host)) {
    return {
      ok: false,
      problem: `${host} is not a host name or IPv4 address`,
      hint: `write ${LISTEN_FORM}`,
    };
  }
  // Port 0 (any free port) is allowed: tests and the emulator use it.
  if (!/^(0|[1-9][0-9]*)$/.test(port) || Number(port) > 65535) {
    return {
      ok: false,
      problem: `port ${port} is not 0-65535 in normal form`,
      hint: `write ${m[1] === undefined ? host : `[${host}]`}:${Math.min(Number(port), 65535)}`,
    };
  }
  return { ok: true, value: { host, port: Number(port) } };
}

export function checkListen(text: string): Check {
  const parsed = parseListen(text);
  return parsed.ok ? OK : bad(parsed.problem, parsed.hint);
}

export function checkApiUrl(text: string): Check {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad(
      "not a URL",
      "write https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return bad(`${url.protocol} is not http: or https:`, "write https://api.github.com");
  }
  if (url.hostname === "github.com" || url.hostname === "www.github.com") {
    return bad("github.com serves web pages, not the REST API", "write https://api.github.com");
  }
  if (url.username || url.password) {
    return bad(
      "a URL must not carry credentials",
      "remove user:password@ and use github.token or github.app",
    );
  }
  if (url.search || url.hash) {
    return bad(
      "a URL must not have a query or fragment",
      `write ${url.origin}${url.pathname.replace(/\/$/, "")}`,
    );
  }
  const normal = `${url.origin}${url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "")}`;
  if (text !== normal) return bad("not in normal form", `write ${normal}`);
  return OK;
}

// GitHub's rules: an owner is 1-39 letters, digits or single hyphens; a repository name is up to
// 100 letters, digits, '.', '-' or '_', and not . or ..
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;

export function checkRepository(text: string): Check {
  const fromUrl = /^(?:https?:\/\/)?(?:www\.)?github\.com\/([^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(
    text,
  );
  if (fromUrl) return bad("a repository is owner/name, not a URL", `write ${fromUrl[1]}`);
  const [owner, name, ...extra] = text.split("/");
  if (owner === undefined || name === undefined || extra.length > 0) {
    return bad(
      "not owner/name",
      extra.length > 0
        ? `write ${owner}/${name}`
        : `write ${text}/REPO, or use scope.organization: ${text}`,
    );
  }
  if (!OWNER.test(owner))
    return bad(`${owner} is not a GitHub owner name`, "write owner/name, e.g. octo-org/app");
  if (!REPO.test(name) || name === "." || name === "..") {
    return bad(`${name} is not a GitHub repository name`, "write owner/name, e.g. octo-org/app");
  }
  return OK;
}

export function checkOrganization(text: string): Check {
  if (text.includes("/")) {
    return bad(
      "an organization has no /",
      `write scope: { repositories: [${text}] } for one repository`,
    );
  }
  return OWNER.test(text)
    ? OK
    : bad("not a GitHub organization name", "write the name as in github.com/ORG, e.g. octo-org");
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Label-set and template names end up in runner names and file names: a short slug. */
export function checkSlug(text: string): Check {
  if (SLUG.test(text)) return OK;
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32);
  return bad(
    "not lowercase letters, digits and -, up to 32 characters",
    slug ? `write ${slug}` : "write a name such as default",
  );
}

export function checkLabel(text: string): Check {
  if (text.includes(",")) {
    return bad(
      "a label has no comma",
      `write labels: [${text
        .split(",")
        .map((l) => l.trim())
        .join(", ")}]`,
    );
  }
  if (/\s/.test(text) || text.length > 100) {
    return bad(
      "a label is up to 100 characters without spaces",
      `write ${text.trim().replace(/\s+/g, "-").slice(0, 100)}`,
    );
  }
  return OK;
}

export function checkUrlPath(text: string): Check {
  if (!text.startsWith("/")) return bad("a URL path starts with /", `write /${text}`);
  if (/[\s?#]/.test(text))
    return bad("a URL path has no spaces, ? or #", "write a plain path such as /webhook");
  return OK;
}

export function checkFilePath(text: string): Check {
  if (text === "") return bad("a path is empty", "write a file path");
  // Never echo these: they are what secrets look like, pasted where a path belongs.
  if (/-----BEGIN|\n/.test(text) || /^(gh[pousr]_|github_pat_)/.test(text)) {
    return {
      ok: false,
      problem: "holds what looks like a secret, not a file path",
      hint: "put the secret in a file with mode 600 and write that file's path here",
      redact: true,
    };
  }
  if (text.includes("\0")) return bad("a path has a NUL byte", "write a file path");
  return OK;
}

export function checkSha256(text: string): Check {
  if (/^[0-9a-f]{64}$/.test(text)) return OK;
  const sum = text.trim().toLowerCase();
  return /^[0-9a-f]{64}$/.test(sum)
    ? bad("not in normal form: 64 lowercase hex digits", `write ${sum}`)
    : bad("not a sha256 sum", "write the 64 hex digits that `sha256sum FILE` prints");
}

/** Checks by name, for `refine(..., { params: { check } })` in the schema. */
export const CHECKS = {
  duration: checkDuration,
  size: checkSize,
  listen: checkListen,
  apiUrl: checkApiUrl,
  repository: checkRepository,
  organization: checkOrganization,
  slug: checkSlug,
  label: checkLabel,
  urlPath: checkUrlPath,
  filePath: checkFilePath,
  sha256: checkSha256,
} as const;

export type CheckName = keyof typeof CHECKS;
