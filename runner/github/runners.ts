/**
 * Self-hosted runner registrations: a just-in-time config per sandbox (the only registration the
 * service makes), deletion when a sandbox ends or `gc` finds one left by a crash, and listing.
 * Endpoints and permissions: research/runner-managers.md §2.1.
 */
import { SandboxedError } from "../errors/index.js";
import type { ClientState } from "./auth.js";
import { apiError, BAD_REPLY, hasStatus, runnerNameTaken } from "./errors.js";
import type { Speaker } from "./auth.js";
import { describeTarget, splitRepo } from "./repo-name.js";
import type { ReplySource } from "./reply-fields.js";
import { bool, int, object, str } from "./reply-fields.js";
import { createSecret } from "./secret.js";
import type { JitConfig, JitOptions, RunnerInfo, Target } from "./types.js";

/** Repository runners belong to the Default group, id 1: a repository has no runner groups. */
const REPO_RUNNER_GROUP = 1;

/** The target's runners path, e.g. "/repos/o/r/actions/runners", for messages. */
function runnersPath(target: Target): string {
  return "repo" in target
    ? `/repos/${target.repo}/actions/runners`
    : `/orgs/${target.org}/actions/runners`;
}

export async function generateJitConfig(
  state: ClientState,
  target: Target,
  options: JitOptions,
): Promise<JitConfig> {
  const speaker = await state.auth.speakerFor(target);
  const body = {
    name: options.name,
    labels: [...options.labels],
    ...(options.workFolder === undefined ? {} : { work_folder: options.workFolder }),
  };
  let data: unknown;
  try {
    ({ data } = await ("repo" in target
      ? speaker.octokit.request("POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig", {
          ...splitRepo(target.repo),
          ...body,
          runner_group_id: REPO_RUNNER_GROUP,
        })
      : speaker.octokit.request("POST /orgs/{org}/actions/runners/generate-jitconfig", {
          org: target.org,
          ...body,
          runner_group_id: options.runnerGroupId ?? REPO_RUNNER_GROUP,
        })));
  } catch (error) {
    if (hasStatus(error, 409)) throw runnerNameTaken(options.name, describeTarget(target));
    throw apiError(error, state.retries);
  }
  const source: ReplySource = {
    kind: "rest",
    what: `POST ${runnersPath(target)}/generate-jitconfig`,
  };
  const reply = object(source, data, "reply");
  const runner = object(source, reply.runner, "runner");
  const blob = reply.encoded_jit_config;
  if (typeof blob !== "string" || blob === "") {
    // Never echo the value: it would be the runner's private key if only its type were wrong.
    throw new SandboxedError(
      BAD_REPLY,
      `GitHub's reply to ${source.what} is malformed: encoded_jit_config must be a non-empty string`,
      { hint: "Check that github.apiUrl is GitHub's REST API and no proxy rewrites replies." },
    );
  }
  return {
    runnerId: int(source, runner, "id", "runner"),
    runnerName: str(source, runner, "name", "runner"),
    jitConfig: createSecret(blob),
  };
}

export async function deleteRunner(
  state: ClientState,
  target: Target,
  runnerId: number,
): Promise<void> {
  const speaker = await state.auth.speakerFor(target);
  try {
    await ("repo" in target
      ? speaker.octokit.request("DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}", {
          ...splitRepo(target.repo),
          runner_id: runnerId,
        })
      : speaker.octokit.request("DELETE /orgs/{org}/actions/runners/{runner_id}", {
          org: target.org,
          runner_id: runnerId,
        }));
  } catch (error) {
    // Already gone: an ephemeral runner that finished its job removes itself.
    if (hasStatus(error, 404)) return;
    throw apiError(error, state.retries);
  }
}

async function allRunners(speaker: Speaker, target: Target): Promise<unknown[]> {
  return "repo" in target
    ? speaker.octokit.paginate("GET /repos/{owner}/{repo}/actions/runners", {
        ...splitRepo(target.repo),
        per_page: 100,
      })
    : speaker.octokit.paginate("GET /orgs/{org}/actions/runners", {
        org: target.org,
        per_page: 100,
      });
}

/** The target's runners whose name starts with `namePrefix` (GitHub filters only exact names). */
export async function listRunners(
  state: ClientState,
  target: Target,
  options: { namePrefix: string },
): Promise<RunnerInfo[]> {
  const speaker = await state.auth.speakerFor(target);
  let raw: unknown[];
  try {
    raw = await allRunners(speaker, target);
  } catch (error) {
    throw apiError(error, state.retries);
  }
  const source: ReplySource = { kind: "rest", what: `GET ${runnersPath(target)}` };
  return raw
    .map((item, i): RunnerInfo => {
      const runner = object(source, item, `runners[${i}]`);
      const path = `runners[${i}]`;
      return {
        id: int(source, runner, "id", path),
        name: str(source, runner, "name", path),
        busy: bool(source, runner, "busy", path),
        status: str(source, runner, "status", path),
      };
    })
    .filter((runner) => runner.name.startsWith(options.namePrefix));
}
