/**
 * The pure half of the runner layer (issue 6 §4): the pinned release, the cache key, where things
 * go in the guest, and the checks a tarball must pass before it is unpacked into a template.
 * runner-layer.ts does the I/O.
 */
import { z } from "zod";
import { SandboxedError } from "../../errors/index.js";
import { parseTemplateYaml, templateHash } from "./template.js";

/** The pin, in vm-templates/. Not a template definition: `template list` skips it. */
export const RUNNER_PIN_FILE = "actions-runner.yml";

/** Where the hooks go in the guest, root's and 0755: the job user can run, not change them. */
export const GUEST_HOOKS_DIR = "/opt/sandboxed/hooks";
/** The guest hooks, from hooks/ in the package; hooks/host/ is for the host and stays out. */
export const GUEST_HOOK_FILES = ["job-started.sh", "job-completed.sh"] as const;
/** What the runner's environment needs so that it runs the hooks (docs.github.com, "Running scripts before or after a job"). */
export const RUNNER_HOOK_ENV: Readonly<Record<string, string>> = {
  ACTIONS_RUNNER_HOOK_JOB_STARTED: `${GUEST_HOOKS_DIR}/job-started.sh`,
  ACTIONS_RUNNER_HOOK_JOB_COMPLETED: `${GUEST_HOOKS_DIR}/job-completed.sh`,
};
/** Written next to run.sh: which runner this layer carries. */
export const RUNNER_MARKER = ".sandboxed-runner.json";

export function runnerGuestDir(userName: string): string {
  return `/home/${userName}/actions-runner`;
}

export function runnerTemplateName(baseName: string): string {
  return `${baseName}+runner`;
}

export interface RunnerPin {
  readonly version: string;
  /** The download URL, {version} filled in. */
  readonly url: string;
  readonly sha256: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

const pinSchema = z.strictObject({
  version: z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+$/),
  url: z
    .string()
    .url()
    .refine((u) => u.startsWith("https://"), "must be https"),
  sha256: z.string().regex(SHA256, "must be 64 lowercase hex digits"),
});

/** vm-templates/actions-runner.yml, validated (SBX_TEMPLATE_INVALID names the key). */
export function parseRunnerPin(text: string, file: string): RunnerPin {
  const pin = parseTemplateYaml(
    text,
    file,
    pinSchema,
    "version: 2.335.1, url: https://…/v{version}/…-{version}.tar.gz, sha256: <64 hex>",
  );
  return { ...pin, url: pin.url.replaceAll("{version}", pin.version) };
}

/** A sum given on the command line: 64 hex digits, any case, stored lowercase. */
export function normalizeSha256(text: string): string {
  const sum = text.trim().toLowerCase();
  if (!SHA256.test(sum)) {
    throw new SandboxedError(
      "SBX_TEMPLATE_RUNNER_CHECKSUM",
      `--runner-sha256 ${JSON.stringify(text)} is not a sha256 sum`,
      { hint: "give the 64 hex digits that `sha256sum FILE` prints" },
    );
  }
  return sum;
}

export interface LayerKeyInput {
  readonly baseHash: string;
  readonly runnerSha256: string;
  readonly hooks: readonly { readonly name: string; readonly content: string | Uint8Array }[];
  /** The build steps (runner-layer.ts's script): changing them must rebuild. */
  readonly recipe: string;
}

/** The cache key: base template, runner tarball, hooks and build steps. */
export function runnerLayerHash(input: LayerKeyInput): string {
  return templateHash([
    input.baseHash,
    input.runnerSha256,
    input.recipe,
    ...input.hooks.flatMap((h) => [h.name, h.content]),
  ]);
}

export type TarballSource =
  | { readonly kind: "tarball"; readonly file: string }
  | { readonly kind: "download"; readonly url: string; readonly file: string };

/**
 * May this tarball be used? The sum it must have is the one given explicitly (--runner-sha256),
 * else the pin's. Refusals show both sums and how to go on.
 */
export function checkRunnerChecksum(
  source: TarballSource,
  actual: string,
  pin: RunnerPin,
  explicit: string | undefined,
): void {
  const expected = explicit ?? pin.sha256;
  if (actual === expected) return;
  const pinFile = `vm-templates/${RUNNER_PIN_FILE}`;
  if (source.kind === "download") {
    throw new SandboxedError(
      "SBX_TEMPLATE_RUNNER_CHECKSUM",
      `the download of ${source.url} has sha256 ${actual}, but ${explicit ? "--runner-sha256 says" : `${pinFile} pins`} ${expected}; it was deleted, not used`,
      {
        hint: `retry; if it fails again, download it yourself, check it against the release notes and pass --runner-tarball FILE`,
      },
    );
  }
  if (explicit) {
    throw new SandboxedError(
      "SBX_TEMPLATE_RUNNER_CHECKSUM",
      `runner tarball ${source.file} has sha256 ${actual}, not ${expected} as --runner-sha256 says`,
      {
        hint: `check the file (sha256sum ${source.file}); pass the sum it has only if you trust it`,
      },
    );
  }
  throw new SandboxedError(
    "SBX_TEMPLATE_RUNNER_CHECKSUM",
    `runner tarball ${source.file} has sha256 ${actual}, but ${pinFile} pins ${expected} (actions runner ${pin.version})`,
    {
      hint: `pass --runner-sha256 ${actual} to accept this tarball deliberately (a self-built or patched runner)`,
    },
  );
}

/** `tar -t` names without the leading `./` the official tarball has. */
function memberName(entry: string): string {
  let name = entry;
  while (name.startsWith("./")) name = name.slice(2);
  return name.replace(/\/$/, "");
}

/**
 * The official tarball has run.sh at its top (it is unpacked into the runner's folder as is).
 * Members that would leave that folder are refused too, whatever tar would do with them.
 */
export function checkRunnerLayout(file: string, entries: readonly string[]): void {
  const escaping = entries.find(
    (e) => e.startsWith("/") || memberName(e).split("/").includes(".."),
  );
  if (escaping !== undefined) {
    throw new SandboxedError(
      "SBX_TEMPLATE_RUNNER_LAYOUT",
      `runner tarball ${file} has a member that leaves its folder: ${JSON.stringify(escaping)}`,
      { hint: "repack it with relative paths: tar -czf runner.tar.gz -C DIR ." },
    );
  }
  if (entries.some((e) => memberName(e) === "run.sh")) return;
  const shown = entries
    .slice(0, 5)
    .map((e) => JSON.stringify(e))
    .join(", ");
  throw new SandboxedError(
    "SBX_TEMPLATE_RUNNER_LAYOUT",
    `runner tarball ${file} has no run.sh at its top (first members: ${shown || "none"})`,
    {
      hint: "use actions-runner-linux-x64-<version>.tar.gz from github.com/actions/runner/releases, or repack with run.sh at the top: tar -czf runner.tar.gz -C DIR .",
    },
  );
}

/** `tar --totals` prints "Total bytes read: N (…)" on stderr: the unpacked archive's size. */
export function parseTarTotal(stderr: string): number | undefined {
  const m = /Total bytes read: ([0-9]+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

const MiB = 2 ** 20;

/**
 * How much the root image grows, in MiB: the archive's size plus a fifth (4 KiB blocks for many
 * small files, directories) plus 64 MiB, so the template keeps the free space its base had.
 */
export function growMiB(archiveBytes: number): number {
  return Math.ceil((archiveBytes * 1.2) / MiB) + 64;
}

export interface RunnerLayerManifest {
  readonly name: string;
  readonly hash: string;
  readonly base: { readonly name: string; readonly hash: string };
  readonly runner: { readonly version: string; readonly sha256: string };
  readonly builtAt: string;
}

/** The marker and manifest's version: the pin's when the sums agree, else "unpinned". */
export function runnerVersion(sha256: string, pin: RunnerPin): string {
  return sha256 === pin.sha256 ? pin.version : "unpinned";
}
