/**
 * One file of a repository's default branch (the repository's own sandbox policy,
 * `.github/sandbox-policy.yml`), through the contents API: no ref means the default branch.
 */
import { SandboxedError } from "../errors/index.js";
import { apiError, hasStatus, REPO_FILE } from "./errors.js";
import type { ClientState } from "./auth.js";
import { splitRepo } from "./repo-name.js";
import type { ReplySource } from "./reply-fields.js";
import { malformed, object, str } from "./reply-fields.js";

export async function readRepoFile(
  state: ClientState,
  repo: string,
  path: string,
): Promise<string | undefined> {
  const speaker = await state.auth.speakerFor({ repo });
  const what = `GET /repos/${repo}/contents/${path}`;
  let data: unknown;
  try {
    ({ data } = await speaker.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      ...splitRepo(repo),
      path,
    }));
  } catch (error) {
    if (hasStatus(error, 404)) return undefined;
    throw apiError(error, state.retries);
  }
  if (Array.isArray(data)) {
    throw new SandboxedError(REPO_FILE, `${repo}:${path} is a folder on the default branch`, {
      hint: `Make ${path} a file, or remove it.`,
    });
  }
  const source: ReplySource = { kind: "rest", what };
  const file = object(source, data, "content");
  const type = str(source, file, "type", "content");
  if (type !== "file") {
    throw new SandboxedError(REPO_FILE, `${repo}:${path} is a ${type}, not a file`, {
      hint: `Make ${path} a regular file.`,
    });
  }
  // Files over 1 MB come back without content ("encoding": "none"); no policy is that large.
  const encoding = str(source, file, "encoding", "content");
  if (encoding === "none") {
    throw new SandboxedError(REPO_FILE, `${repo}:${path} is too large for GitHub's contents API`, {
      hint: `Keep ${path} under 1 MB.`,
    });
  }
  if (encoding !== "base64") throw malformed(source, "content.encoding", '"base64"', encoding);
  return Buffer.from(str(source, file, "content", "content"), "base64").toString("utf8");
}
