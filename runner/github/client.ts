/** createGithubClient: the GitHub REST side of the service, one object per configured account. */
import { createAuthState } from "./auth.js";
import { redeliverFailed } from "./deliveries.js";
import type { ClientState } from "./auth.js";
import { getJob, listQueuedJobs } from "./jobs.js";
import { createOctokitFactory } from "./octokit.js";
import { readRepoFile } from "./repo-file.js";
import { reportJob } from "./report.js";
import { deleteRunner, generateJitConfig, listRunners } from "./runners.js";
import type { GithubClient, GithubClientOptions, GithubLog } from "./types.js";

const DEFAULT_RETRIES = 3;
const DEFAULT_MIN_RETRY_DELAY_MS = 1000;
/** GitHub: "wait at least one second between each request" that writes (best practices). */
const DEFAULT_MIN_WRITE_INTERVAL_MS = 1000;

const silent: GithubLog = { debug() {}, info() {}, warn() {}, error() {} };

export function createGithubClient(options: GithubClientOptions): GithubClient {
  const log = options.log ?? silent;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const makeOctokit = createOctokitFactory({
    apiUrl: options.apiUrl,
    log,
    retries,
    minRetryDelayMs: options.minRetryDelayMs ?? DEFAULT_MIN_RETRY_DELAY_MS,
    minWriteIntervalMs: options.minWriteIntervalMs ?? DEFAULT_MIN_WRITE_INTERVAL_MS,
    ...(options.onApiError ? { onApiError: options.onApiError } : {}),
  });
  const state: ClientState = {
    auth: createAuthState(options.auth, makeOctokit, retries),
    log,
    retries,
  };
  return {
    listQueuedJobs: (scope) => listQueuedJobs(state, scope),
    getJob: (repo, jobId) => getJob(state, repo, jobId),
    generateJitConfig: (target, jit) => generateJitConfig(state, target, jit),
    deleteRunner: (target, runnerId) => deleteRunner(state, target, runnerId),
    listRunners: (target, filter) => listRunners(state, target, filter),
    readRepoFile: (repo, path) => readRepoFile(state, repo, path),
    reportJob: (repo, headSha, report) => reportJob(state, repo, headSha, report),
    redeliverFailed: (sinceMs) => redeliverFailed(state, sinceMs),
  };
}
