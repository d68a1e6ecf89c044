/** Putting a job's outcome on its commit: see report-body.ts for what is sent. */
import { apiError } from "./errors.js";
import type { ClientState } from "./auth.js";
import { splitRepo } from "./repo-name.js";
import { int, object } from "./reply-fields.js";
import { checkRunBodies, statusBody } from "./report-body.js";
import type { JobReport } from "./types.js";

export async function reportJob(
  state: ClientState,
  repo: string,
  headSha: string,
  report: JobReport,
): Promise<void> {
  const { octokit } = await state.auth.speakerFor({ repo });
  const names = splitRepo(repo);
  try {
    if (!state.auth.isApp) {
      // Check runs can only be created by an App; a token gets a commit status.
      await octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
        ...names,
        sha: headSha,
        ...statusBody(report),
      });
      return;
    }
    const bodies = checkRunBodies(headSha, report);
    const { data } = await octokit.request("POST /repos/{owner}/{repo}/check-runs", {
      ...names,
      ...bodies.create,
    });
    if (bodies.updates.length === 0) return;
    const source = { kind: "rest", what: `POST /repos/${repo}/check-runs` } as const;
    const checkRunId = int(source, object(source, data, "check_run"), "id", "check_run");
    for (const output of bodies.updates) {
      await octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
        ...names,
        check_run_id: checkRunId,
        output,
      });
    }
  } catch (error) {
    throw apiError(error, state.retries);
  }
}
