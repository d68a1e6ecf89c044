/**
 * What a step's `uses:` names (pure; no I/O). GitHub's own split is the reference, so a value the
 * runner accepts is accepted here and one it rejects is rejected with its words: actions/runner
 * `PipelineTemplateConverter.ConvertToStep` checks `docker://`, then `./` (a path in the
 * repository), then splits on `@` (exactly two parts) and the left part on `/` (at least
 * owner and repo). https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsuses
 *
 * Stricter than the runner on purpose: owner, repository, path and ref become URL parts and cache
 * folders on the host, so names that could climb out of a folder (`..`) or break a URL are refused.
 */
import path from "node:path";
import { SandboxedError } from "../errors/index.js";
import type { SourceRef } from "../errors/index.js";

/** A `uses:` that names a folder of the job's own repository (`./path`). */
export interface LocalUses {
  readonly kind: "local";
  /** Relative to the repository root, normalised, `/`-separated; `.` for the root itself. */
  readonly path: string;
  readonly uses: string;
  readonly source: SourceRef;
}

/** A `uses:` that names an action in another repository (`owner/repo[/path]@ref`). */
export interface RemoteUses {
  readonly kind: "remote";
  readonly owner: string;
  readonly repo: string;
  /** The folder inside the repository holding action.yml; absent for the root. */
  readonly path?: string;
  readonly ref: string;
  readonly uses: string;
  readonly source: SourceRef;
}

/**
 * `actions/checkout@<any ref>`: the job's repository is already the working tree we copy into the
 * VM, so checkout is satisfied locally instead of fetching the action and cloning again.
 */
export interface CheckoutUses {
  readonly kind: "checkout";
  readonly ref: string;
  readonly uses: string;
  readonly source: SourceRef;
}

export type ActionUses = LocalUses | RemoteUses | CheckoutUses;

const FORMAT_HINT =
  "Write it as owner/repo@ref or owner/repo/path@ref, e.g. actions/setup-node@v4.";

/**
 * Parses one `uses:` value. Order follows the runner: `docker://` first, then `./` and `.\`, then
 * the remote form. Throws SandboxedError (SBX_ENGINE_USES_*) with `source` set.
 */
export function parseUses(uses: string, source: SourceRef): ActionUses {
  if (uses.startsWith("docker://")) {
    throw new SandboxedError(
      "SBX_ENGINE_USES_DOCKER",
      `Docker container actions are not supported yet: uses: ${uses}`,
      {
        hint: "Use a JavaScript or composite action instead, or a run: step that does the same work.",
        source,
      },
    );
  }
  if (uses.startsWith("./") || uses.startsWith(".\\")) return parseLocal(uses, source);
  return parseRemote(uses, source);
}

function parseLocal(uses: string, source: SourceRef): LocalUses {
  // `.\x` is the runner's Windows spelling; our guests are Linux, where it is a file name.
  if (uses.includes("\\")) {
    throw new SandboxedError(
      "SBX_ENGINE_USES_LOCAL_PATH",
      `A local action path must use '/', not '\\': uses: ${uses}`,
      { hint: `uses: ${uses.replaceAll("\\", "/")}`, source },
    );
  }
  const normal = path.posix.normalize(uses);
  if (normal === ".." || normal.startsWith("../") || hasControl(uses)) {
    throw new SandboxedError(
      "SBX_ENGINE_USES_LOCAL_PATH",
      `A local action must be inside the repository: uses: ${uses}`,
      {
        hint: "Name a folder below the repository root, e.g. uses: ./.github/actions/setup",
        source,
      },
    );
  }
  return { kind: "local", path: normal.replace(/\/$/, "") || ".", uses, source };
}

function parseRemote(uses: string, source: SourceRef): RemoteUses | CheckoutUses {
  const parts = uses.split("@");
  const segments = (parts[0] ?? "").split(/[/\\]/).filter((s) => s !== "");
  const ref = parts.length === 2 ? (parts[1] ?? "") : "";
  const [owner, repo, ...rest] = segments;
  if (parts.length !== 2 || owner === undefined || repo === undefined || ref === "") {
    // The runner's message, verbatim (act's uses-github-noref test expects the same prefix).
    throw new SandboxedError(
      "SBX_ENGINE_USES_FORMAT",
      `Expected format {org}/{repo}[/path]@ref. Actual '${uses}'`,
      { hint: FORMAT_HINT, source },
    );
  }
  const bad = (what: string, value: string, rule: string): never => {
    throw new SandboxedError(
      "SBX_ENGINE_USES_NAME",
      `Not a valid ${what} in uses: ${uses}: '${value}' ${rule}`,
      { hint: FORMAT_HINT, source },
    );
  };
  // GitHub owners: letters, digits, '-' (and '_' in Enterprise Managed User names), ≤ 39.
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,38}$/.test(owner)) {
    bad("owner", owner, "(letters, digits, '-' and '_', at most 39)");
  }
  // Repositories: letters, digits, '.', '-', '_', ≤ 100; `.github` is a real name.
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(repo) || repo === "." || repo === "..") {
    bad("repository", repo, "(letters, digits, '.', '-' and '_', at most 100)");
  }
  for (const segment of rest) {
    if (segment === "." || segment === ".." || hasControl(segment)) {
      bad("path", rest.join("/"), "(no '.' or '..' parts)");
    }
  }
  const refProblem = checkRefFormat(ref);
  if (refProblem !== undefined) bad("ref", ref, refProblem);
  if (rest.length === 0 && owner.toLowerCase() === "actions" && repo.toLowerCase() === "checkout") {
    return { kind: "checkout", ref, uses, source };
  }
  return rest.length === 0
    ? { kind: "remote", owner, repo, ref, uses, source }
    : { kind: "remote", owner, repo, path: rest.join("/"), ref, uses, source };
}

/**
 * The rules of `git check-ref-format` that matter for a name we put in a URL and a folder:
 * https://git-scm.com/docs/git-check-ref-format. Returns why `ref` breaks them, or undefined.
 */
function checkRefFormat(ref: string): string | undefined {
  if (hasControl(ref) || /[\s~^:?*[\\]/.test(ref)) {
    return "(no spaces, control characters or any of ~^:?*[\\)";
  }
  if (ref.includes("..") || ref.includes("@{") || ref.includes("//")) {
    return "(no '..', '@{' or '//')";
  }
  if (/^[/.]|[/.]$|\.lock$|\/\./.test(ref)) {
    return "(must not start or end with '/' or '.', end with '.lock', or have a part starting with '.')";
  }
  return undefined;
}

function hasControl(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}
