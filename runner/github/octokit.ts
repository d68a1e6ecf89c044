/**
 * The Octokit every request goes through: @octokit/rest with plugin-retry (5xx) and
 * plugin-throttling (403/429 rate limits), a bounded number of retries, a fetch that counts
 * GitHub's error replies, and Octokit's own log routed to ours without request options (they
 * carry the Authorization header).
 */
import { randomUUID } from "node:crypto";
import { Octokit } from "@octokit/rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import Bottleneck from "bottleneck";
import { FIELD } from "../logs/index.js";
import { requestParts } from "./errors.js";
import type { GithubLog } from "./types.js";

const PluggedOctokit = Octokit.plugin(retry, throttling);
export type GithubOctokit = InstanceType<typeof PluggedOctokit>;

/** What OctokitOptions' authStrategy/auth pair takes, kept loose: auth-app or a token. */
export interface OctokitAuth {
  readonly authStrategy?: unknown;
  readonly auth: unknown;
}

export interface OctokitSettings {
  readonly apiUrl: string;
  readonly log: GithubLog;
  readonly retries: number;
  readonly minRetryDelayMs: number;
  readonly minWriteIntervalMs: number;
  readonly onApiError?: (status: number) => void;
}

/**
 * Statuses plugin-retry must leave alone: client errors that a retry cannot fix (409: the runner
 * name is taken), and 403/429, which plugin-throttling retries after GitHub's own wait. Without
 * 429 here both plugins would retry it and the waits would multiply.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 429, 451];

/** A rate-limit wait longer than this fails the request; the reconcile loop comes back later. */
const MAX_RATE_LIMIT_WAIT_MS = 15 * 60_000;

/**
 * Makes Octokits sharing one set of limits: every Octokit of a client (the App's, one per
 * installation) queues its writes behind the same 1 s spacing and shares a throttling id, while
 * two clients share nothing (plugin-throttling's default groups are module state).
 */
export function createOctokitFactory(
  settings: OctokitSettings,
): (auth: OctokitAuth) => GithubOctokit {
  const { log, retries, minRetryDelayMs, onApiError } = settings;
  const id = `sandboxed-${randomUUID()}`;
  const write = new Bottleneck.Group({ maxConcurrent: 1, minTime: settings.minWriteIntervalMs });
  const notifications = new Bottleneck.Group({ maxConcurrent: 1, minTime: 3000 });
  const search = new Bottleneck.Group({ maxConcurrent: 1, minTime: 2000 });

  const onLimit =
    (kind: string) =>
    (
      retryAfterS: number,
      options: { method?: string; url?: string },
      _o: unknown,
      count: number,
    ) => {
      const waitMs = retryAfterS * minRetryDelayMs;
      const { method, path } = requestParts(options.method, options.url);
      const fields = { [FIELD.method]: method, [FIELD.path]: path, retryAfterS, retry: count + 1 };
      if (count >= retries || waitMs > MAX_RATE_LIMIT_WAIT_MS) {
        log.error(fields, `GitHub ${kind}: giving up`);
        return false;
      }
      log.warn(fields, `GitHub ${kind}: retrying after the wait GitHub asks for`);
      return true;
    };

  const countingFetch = async (input: string | URL | Request, init?: RequestInit) => {
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      onApiError?.(0);
      throw error;
    }
    // 404 answers a question about our input ("no such job", "runner already gone"): not an error
    // of GitHub's, and readRepoFile asks it for every job without a repository policy.
    if (response.status >= 400 && response.status !== 404) onApiError?.(response.status);
    return response;
  };

  return (auth) =>
    new PluggedOctokit({
      ...(auth as object),
      baseUrl: settings.apiUrl.replace(/\/+$/, ""),
      userAgent: "sandboxed",
      request: { fetch: countingFetch },
      retry: { retries, retryAfterBaseValue: minRetryDelayMs, doNotRetry: DO_NOT_RETRY },
      throttle: {
        id,
        write,
        notifications,
        search,
        retryAfterBaseValue: minRetryDelayMs,
        onRateLimit: onLimit("rate limit"),
        onSecondaryRateLimit: onLimit("secondary rate limit"),
      },
      // Octokit logs request options (with the token) at debug: pass on the messages only.
      log: {
        debug: () => {},
        info: (message: string) => log.debug({}, message),
        warn: (message: string) => log.warn({}, message),
        // Failed requests surface as errors to our callers; expected 404s need no error line.
        error: (message: string) => log.debug({}, message),
      },
    });
}
