import { describe, expect, it } from "vitest";
import { parseUses } from "../../runner/engine/action-ref.js";
import type { ActionUses } from "../../runner/engine/action-ref.js";
import { SandboxedError } from "../../runner/errors/index.js";

const at = { file: ".github/workflows/ci.yml", line: 12, col: 15 };
const WS = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax";
const USES = `${WS}#jobsjob_idstepsuses`;
const DOCKER = `${WS}#example-using-a-docker-hub-action`;
const CHECKOUT = "https://github.com/actions/checkout#usage";

/** ActionUses without uses and source, kept a union (Omit on a union would merge it). */
type Expected = ActionUses extends infer U
  ? U extends unknown
    ? Omit<U, "uses" | "source">
    : never
  : never;

describe("parseUses", () => {
  it.each<{ name: string; docs: string; uses: string; expect: Expected }>([
    // --- ./path: a folder of the job's own repository
    {
      name: "local action",
      docs: `${WS}#example-using-an-action-in-the-same-repository-as-the-workflow`,
      uses: "./.github/actions/setup",
      expect: { kind: "local", path: ".github/actions/setup" },
    },
    {
      name: "local action at the repository root",
      docs: USES,
      uses: "./",
      expect: { kind: "local", path: "." },
    },
    {
      name: "local path is normalised",
      docs: USES,
      uses: "./a/../b/./c/",
      expect: { kind: "local", path: "b/c" },
    },
    // --- owner/repo[/path]@ref
    {
      name: "public action by tag",
      docs: `${WS}#example-using-versioned-actions`,
      uses: "actions/setup-node@v4",
      expect: { kind: "remote", owner: "actions", repo: "setup-node", ref: "v4" },
    },
    {
      name: "action in a subfolder",
      docs: `${WS}#example-using-a-public-action-in-a-subdirectory`,
      uses: "github/codeql-action/init@v3",
      expect: { kind: "remote", owner: "github", repo: "codeql-action", path: "init", ref: "v3" },
    },
    {
      name: "deep subfolder",
      docs: USES,
      uses: "octo-org/actions/a/b/c@main",
      expect: { kind: "remote", owner: "octo-org", repo: "actions", path: "a/b/c", ref: "main" },
    },
    {
      name: "full commit SHA",
      docs: `${WS}#example-using-versioned-actions`,
      uses: "actions/setup-node@1e60f620b9541d16bece96c5465dc8ee9832be0b",
      expect: {
        kind: "remote",
        owner: "actions",
        repo: "setup-node",
        ref: "1e60f620b9541d16bece96c5465dc8ee9832be0b",
      },
    },
    {
      name: "branch with a slash",
      docs: USES,
      uses: "octo-org/tool@releases/v1",
      expect: { kind: "remote", owner: "octo-org", repo: "tool", ref: "releases/v1" },
    },
    {
      name: "a repository named .github",
      docs: USES,
      uses: "octo-org/.github/.github/actions/lint@main",
      expect: {
        kind: "remote",
        owner: "octo-org",
        repo: ".github",
        path: ".github/actions/lint",
        ref: "main",
      },
    },
    {
      name: "backslash separates like '/' (the runner splits on both)",
      docs: USES,
      uses: "octo-org\\tool@v1",
      expect: { kind: "remote", owner: "octo-org", repo: "tool", ref: "v1" },
    },
    // --- actions/checkout: satisfied from the working tree
    {
      name: "checkout",
      docs: CHECKOUT,
      uses: "actions/checkout@v4",
      expect: { kind: "checkout", ref: "v4" },
    },
    {
      name: "checkout in other case (GitHub names ignore case)",
      docs: CHECKOUT,
      uses: "Actions/Checkout@v5",
      expect: { kind: "checkout", ref: "v5" },
    },
    {
      name: "a subfolder of actions/checkout is not checkout",
      docs: USES,
      uses: "actions/checkout/sub@v4",
      expect: { kind: "remote", owner: "actions", repo: "checkout", path: "sub", ref: "v4" },
    },
  ])("$name", ({ uses, expect: expected }) => {
    expect(parseUses(uses, at)).toEqual({ ...expected, uses, source: at });
  });
});

describe("parseUses refusals", () => {
  const FORMAT_HINT =
    "Write it as owner/repo@ref or owner/repo/path@ref, e.g. actions/setup-node@v4.";
  it.each<{
    name: string;
    docs: string;
    uses: string;
    code: string;
    message: string;
    hint: string;
  }>([
    // --- Docker
    {
      name: "docker:// image",
      docs: DOCKER,
      uses: "docker://alpine:3.20",
      code: "SBX_ENGINE_USES_DOCKER",
      message: "Docker container actions are not supported yet: uses: docker://alpine:3.20",
      hint: "Use a JavaScript or composite action instead, or a run: step that does the same work.",
    },
    // --- the runner's format check, verbatim
    {
      name: "no @ref (GitHub requires one)",
      docs: USES,
      uses: "actions/checkout",
      code: "SBX_ENGINE_USES_FORMAT",
      message: "Expected format {org}/{repo}[/path]@ref. Actual 'actions/checkout'",
      hint: FORMAT_HINT,
    },
    {
      name: "empty ref",
      docs: USES,
      uses: "actions/checkout@",
      code: "SBX_ENGINE_USES_FORMAT",
      message: "Expected format {org}/{repo}[/path]@ref. Actual 'actions/checkout@'",
      hint: FORMAT_HINT,
    },
    {
      name: "no owner",
      docs: USES,
      uses: "checkout@v4",
      code: "SBX_ENGINE_USES_FORMAT",
      message: "Expected format {org}/{repo}[/path]@ref. Actual 'checkout@v4'",
      hint: FORMAT_HINT,
    },
    {
      name: "two @",
      docs: USES,
      uses: "octo/tool@v1@v2",
      code: "SBX_ENGINE_USES_FORMAT",
      message: "Expected format {org}/{repo}[/path]@ref. Actual 'octo/tool@v1@v2'",
      hint: FORMAT_HINT,
    },
    {
      name: "empty",
      docs: USES,
      uses: "",
      code: "SBX_ENGINE_USES_FORMAT",
      message: "Expected format {org}/{repo}[/path]@ref. Actual ''",
      hint: FORMAT_HINT,
    },
    // --- names that would climb out of a cache folder or break a URL
    {
      name: "'..' as repository",
      docs: USES,
      uses: "octo/../tool@v1",
      code: "SBX_ENGINE_USES_NAME",
      message:
        "Not a valid repository in uses: octo/../tool@v1: '..' (letters, digits, '.', '-' and '_', at most 100)",
      hint: FORMAT_HINT,
    },
    {
      name: "'..' in the path",
      docs: USES,
      uses: "octo/tool/../../x@v1",
      code: "SBX_ENGINE_USES_NAME",
      message: "Not a valid path in uses: octo/tool/../../x@v1: '../../x' (no '.' or '..' parts)",
      hint: FORMAT_HINT,
    },
    {
      name: "owner starting with '-'",
      docs: USES,
      uses: "-octo/tool@v1",
      code: "SBX_ENGINE_USES_NAME",
      message:
        "Not a valid owner in uses: -octo/tool@v1: '-octo' (letters, digits, '-' and '_', at most 39)",
      hint: FORMAT_HINT,
    },
    {
      name: "space in the ref",
      docs: "https://git-scm.com/docs/git-check-ref-format",
      uses: "octo/tool@v 1",
      code: "SBX_ENGINE_USES_NAME",
      message:
        "Not a valid ref in uses: octo/tool@v 1: 'v 1' (no spaces, control characters or any of ~^:?*[\\)",
      hint: FORMAT_HINT,
    },
    {
      name: "'..' in the ref",
      docs: "https://git-scm.com/docs/git-check-ref-format",
      uses: "octo/tool@../../x",
      code: "SBX_ENGINE_USES_NAME",
      message: "Not a valid ref in uses: octo/tool@../../x: '../../x' (no '..', '@{' or '//')",
      hint: FORMAT_HINT,
    },
    {
      name: "ref ending in .lock",
      docs: "https://git-scm.com/docs/git-check-ref-format",
      uses: "octo/tool@v1.lock",
      code: "SBX_ENGINE_USES_NAME",
      message:
        "Not a valid ref in uses: octo/tool@v1.lock: 'v1.lock' (must not start or end with '/' or '.', end with '.lock', or have a part starting with '.')",
      hint: FORMAT_HINT,
    },
    // --- local paths
    {
      name: "local path leaving the repository",
      docs: USES,
      uses: "./../other/action",
      code: "SBX_ENGINE_USES_LOCAL_PATH",
      message: "A local action must be inside the repository: uses: ./../other/action",
      hint: "Name a folder below the repository root, e.g. uses: ./.github/actions/setup",
    },
    {
      name: "Windows-style local path",
      docs: USES,
      uses: ".\\actions\\setup",
      code: "SBX_ENGINE_USES_LOCAL_PATH",
      message: "A local action path must use '/', not '\\': uses: .\\actions\\setup",
      hint: "uses: ./actions/setup",
    },
  ])("$name", ({ uses, code, message, hint }) => {
    const error = catchError(() => parseUses(uses, at));
    expect(error).toBeInstanceOf(SandboxedError);
    expect(error).toMatchObject({ code, message, hint, source: at });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
