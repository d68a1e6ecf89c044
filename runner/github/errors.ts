/**
 * The GitHub area's errors (STYLE H5): each names what failed and the offending value, and its
 * hint says what to change. Listed in docs/errors.md under "GitHub".
 */
import { SandboxedError } from "../errors/index.js";

/** A REST request failed for good (after the retries of 5xx and rate-limit replies). */
export const API = "SBX_GITHUB_API";
/** A REST reply without a field we need, or of the wrong type. */
export const BAD_REPLY = "SBX_GITHUB_BAD_REPLY";
/** A webhook body that is not a well-formed workflow_job event (answered 400). */
export const WEBHOOK_PAYLOAD = "SBX_GITHUB_WEBHOOK_PAYLOAD";
/** generate-jitconfig answered 409: a runner of that name exists. */
export const RUNNER_NAME_TAKEN = "SBX_GITHUB_RUNNER_NAME_TAKEN";
/** The App is not installed on the repository or organization. */
export const NOT_INSTALLED = "SBX_GITHUB_NOT_INSTALLED";
/** The client's auth options cannot work (no token, an App id or key of the wrong shape). */
export const AUTH = "SBX_GITHUB_AUTH";
/** A repository not written "owner/name". */
export const REPO_NAME = "SBX_GITHUB_REPO_NAME";
/** readRepoFile found a folder, or a file too large for the contents API. */
export const REPO_FILE = "SBX_GITHUB_REPO_FILE";

/** The shape of @octokit/request-error's RequestError that we read. */
interface RequestErrorLike {
  status: number;
  message: string;
  request?: { method?: string; url?: string };
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

export function isRequestError(error: unknown): error is RequestErrorLike {
  return (
    error instanceof Error &&
    typeof (error as { status?: unknown }).status === "number" &&
    typeof (error as { request?: unknown }).request === "object"
  );
}

export function hasStatus(error: unknown, ...statuses: number[]): boolean {
  return isRequestError(error) && statuses.includes(error.status);
}

/** GitHub's own `message` from the reply body, else the error's message. */
function githubMessage(error: RequestErrorLike): string {
  const data = error.response?.data;
  if (typeof data === "object" && data !== null) {
    const message = (data as { message?: unknown }).message;
    if (typeof message === "string" && message !== "") return message;
  }
  return error.message;
}

function isRateLimited(error: RequestErrorLike): boolean {
  if (error.status !== 403 && error.status !== 429) return false;
  const remaining = error.response?.headers?.["x-ratelimit-remaining"];
  return String(remaining) === "0" || /rate limit/i.test(githubMessage(error));
}

/** Method and path (no host, no query) of a request, for messages and log lines. */
export function requestParts(
  method: string | undefined,
  url: string | undefined,
): { method: string; path: string } {
  let path = url ?? "?";
  try {
    path = new URL(path, "http://github.invalid").pathname;
  } catch {
    // not a URL: keep it as given
  }
  return { method: method ?? "?", path };
}

/** e.g. "GET /repos/o/r/actions/jobs/1". */
export function requestLine(method: string | undefined, url: string | undefined): string {
  const parts = requestParts(method, url);
  return `${parts.method} ${parts.path}`;
}

function apiHint(error: RequestErrorLike, retries: number): string {
  if (isRateLimited(error)) {
    return `GitHub's rate limit held through ${retries} retries; the reconcile loop tries again later. Lower reconcile frequency or spread the scope over several Apps.`;
  }
  if (error.status === 401) {
    return "Check github.token's file, or github.app.id and github.app.privateKeyFile, in sandboxed.yml.";
  }
  if (error.status === 403) {
    return "Give the token or App: Actions read, Administration write (repository runners), organization Self-hosted runners write (org runners), Checks write or Commit statuses write, Contents read.";
  }
  if (error.status === 404) {
    return "Check that the repository or organization exists and the token or App can see it.";
  }
  if (error.status >= 500 || error.status === 0) {
    return `GitHub failed through ${retries} retries; see https://www.githubstatus.com, or check github.apiUrl.`;
  }
  return "GitHub refused the request as sent; the message above says why.";
}

/** A RequestError as our error, or the error itself when it is not one. */
export function apiError(error: unknown, retries: number): unknown {
  if (!isRequestError(error)) return error;
  const line = requestLine(error.request?.method, error.request?.url);
  return new SandboxedError(
    API,
    `GitHub API ${line} failed: ${error.status} ${githubMessage(error)}`,
    { hint: apiHint(error, retries), cause: error },
  );
}

export function runnerNameTaken(name: string, target: string): SandboxedError {
  return new SandboxedError(
    RUNNER_NAME_TAKEN,
    `GitHub already has a runner named "${name}" on ${target} (409 from generate-jitconfig)`,
    {
      hint: `Runner names must be unique: delete the stale runner (sandboxed gc) or generate another name.`,
    },
  );
}

export function notInstalled(target: string): SandboxedError {
  return new SandboxedError(NOT_INSTALLED, `The GitHub App is not installed on ${target}`, {
    hint: `Install the App on ${target} (github.com → Settings → GitHub Apps → Install), or set github.app.installationId in sandboxed.yml.`,
  });
}

export function badRepoName(value: string): SandboxedError {
  return new SandboxedError(REPO_NAME, `"${value}" is not a repository name "owner/name"`, {
    hint: `Write it as owner/name, e.g. octo-org/app.`,
  });
}

/** A short, single-line picture of an offending value for a message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
