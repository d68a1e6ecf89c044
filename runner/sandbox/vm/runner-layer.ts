/**
 * The runner layer (issue 6 §4): a template derived from a built one, with the official actions
 * runner unpacked at /home/<job user>/actions-runner and the job hooks at /opt/sandboxed/hooks.
 * Cached at `<state>/templates/<base>+runner/<hash>` by the base's hash, the runner's sha256,
 * the hooks and the steps below. Built like template-build.ts: in a `.partial-<pid>` folder,
 * renamed into place only when complete. The copy of the base image is grown, loop-mounted in a
 * private mount namespace (a killed build leaves no mount behind), filled, and unmounted.
 */
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { SandboxedError } from "../../errors/index.js";
import {
  checkRunnerChecksum,
  checkRunnerLayout,
  GUEST_HOOK_FILES,
  GUEST_HOOKS_DIR,
  growMiB,
  normalizeSha256,
  parseRunnerPin,
  parseTarTotal,
  RUNNER_MARKER,
  RUNNER_PIN_FILE,
  runnerGuestDir,
  runnerLayerHash,
  runnerTemplateName,
  runnerVersion,
} from "./runner-layer-plan.js";
import { followOutput } from "./output-tail.js";
import { cachedDownload, sha256Of } from "./runner-layer-fetch.js";
import type { RunnerLayerManifest, RunnerPin } from "./runner-layer-plan.js";
import type { VmTemplate } from "./template.js";

export interface RunnerTemplateOptions {
  readonly stateDir: string;
  /** A built template (buildTemplate's result). */
  readonly base: VmTemplate;
  /** The package root (vm-templates/actions-runner.yml, hooks/); default: the one above this file. */
  readonly root?: string;
  /** A local actions-runner tarball instead of downloading the pinned one. */
  readonly tarball?: string;
  /** Accept this sum instead of the pin's (a self-built or patched runner); refused if the file differs. */
  readonly sha256?: string;
  /** Fetch the pinned URL; default: fetch(). Tests inject one; nothing else needs to. */
  readonly download?: (url: string) => Promise<AsyncIterable<Uint8Array>>;
  readonly onProgress?: (line: string) => void;
  readonly force?: boolean;
}

/** A VmTemplate (use it as one) that also says which runner it carries. */
export interface RunnerTemplate extends VmTemplate {
  readonly base: { readonly name: string; readonly hash: string };
  readonly runner: {
    readonly version: string;
    readonly sha256: string;
    /** In the guest: /home/<job user>/actions-runner. */
    readonly dir: string;
  };
  /** True when the layer was already built. */
  readonly cached: boolean;
}

/**
 * The steps run as root inside `unshare --mount`: the loop mount lives and dies with that
 * namespace, and the trap unmounts on every exit path. Part of the cache key.
 */
const LAYER_SCRIPT = `set -euo pipefail
for v in IMAGE MNT TARBALL HOOKS HOOK_FILES GROW_MIB USER_NAME USER_UID USER_GID MARKER MARKER_NAME \\
  RUNNER_DIR HOOKS_DIR; do
  if [ -z "$(printenv "$v")" ]; then echo "runner layer: $v is not set"; exit 1; fi
done
echo "==> grow the root image by $GROW_MIB MiB"
truncate -s "+$GROW_MIB"M "$IMAGE"
rc=0; e2fsck -fp "$IMAGE" >/dev/null || rc=$?
if [ "$rc" -gt 1 ]; then echo "e2fsck $IMAGE failed (exit $rc)"; exit 1; fi
resize2fs "$IMAGE" 2>&1 | sed -u 's/^/    /'
echo "==> mount the copy"
mount -o loop,nosuid,nodev "$IMAGE" "$MNT"
trap 'umount "$MNT"' EXIT
if [ ! -d "$MNT/home/$USER_NAME" ]; then echo "the template has no /home/$USER_NAME"; exit 1; fi
echo "==> actions runner into $RUNNER_DIR"
rm -rf "$MNT$RUNNER_DIR"
mkdir "$MNT$RUNNER_DIR"
tar -xzf "$TARBALL" -C "$MNT$RUNNER_DIR" --no-same-owner
printf '%s\\n' "$MARKER" > "$MNT$RUNNER_DIR/$MARKER_NAME"
chmod 0644 "$MNT$RUNNER_DIR/$MARKER_NAME"
chown -R --no-dereference "$USER_UID:$USER_GID" "$MNT$RUNNER_DIR"
echo "==> hooks into $HOOKS_DIR"
install -d -m 0755 -o 0 -g 0 "$MNT$HOOKS_DIR"
for hook in $HOOK_FILES; do
  install -m 0755 -o 0 -g 0 "$HOOKS/$hook" "$MNT$HOOKS_DIR/$hook"
done
echo "==> unmount"
trap - EXIT
umount "$MNT"
e2fsck -fn "$IMAGE" >/dev/null
echo "==> done: $(du -sh "$IMAGE" | cut -f1) on disk"
`;

/** The installed package: the folder above this file that holds the pin (source or build/). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "vm-templates", RUNNER_PIN_FILE))) {
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
    dir = up;
  }
  return dir;
}

function readPin(root: string): RunnerPin {
  const file = path.join(root, "vm-templates", RUNNER_PIN_FILE);
  if (!existsSync(file)) {
    throw new SandboxedError("SBX_TEMPLATE_UNKNOWN", `no runner pin at ${file}`, {
      hint: "reinstall sandboxed: the package ships vm-templates/actions-runner.yml",
    });
  }
  return parseRunnerPin(readFileSync(file, "utf8"), file);
}

/** Hardlink when the state dir allows it (one copy of the kernel on disk), else copy. */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readManifest(dir: string): RunnerLayerManifest | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as RunnerLayerManifest;
  } catch {
    return undefined;
  }
}

/**
 * Layers on an older build of the base go, and so do partial folders of dead builds; layers of
 * the current base with another runner stay (a self-built runner and the official one can coexist).
 */
function prune(parent: string, baseHash: string): void {
  for (const entry of readdirSync(parent)) {
    const full = path.join(parent, entry);
    const partial = /\.partial-([0-9]+)$/.exec(entry);
    if (partial ? !pidAlive(Number(partial[1])) : readManifest(full)?.base?.hash !== baseHash) {
      rmSync(full, { recursive: true, force: true });
    }
  }
}

function templateOf(dir: string, manifest: RunnerLayerManifest, base: VmTemplate, cached: boolean) {
  const template: RunnerTemplate = {
    name: manifest.name,
    hash: manifest.hash,
    dir,
    kernel: path.join(dir, path.basename(base.kernel)),
    initrd: path.join(dir, path.basename(base.initrd)),
    rootImage: path.join(dir, "root.ext4"),
    user: base.user,
    base: manifest.base,
    runner: { ...manifest.runner, dir: runnerGuestDir(base.user.name) },
    cached,
  };
  return template;
}

async function runScript(env: Record<string, string>, progress: (l: string) => void) {
  const child = execa(
    "unshare",
    ["--mount", "--propagation", "private", "bash", "-c", LAYER_SCRIPT],
    { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env }, all: true, reject: false },
  );
  const output = followOutput(child.all, progress);
  const result = await child;
  const tail = output.lines;
  if (output.rest()) tail.push(output.rest());
  return { exitCode: result.exitCode ?? 1, tail };
}

/** The base template with the actions runner and the hooks in it; built once per key. */
export async function ensureRunnerTemplate(
  options: RunnerTemplateOptions,
): Promise<RunnerTemplate> {
  const progress = options.onProgress ?? (() => undefined);
  const { base } = options;
  const root = options.root ?? packageRoot();
  const pin = readPin(root);
  const explicit = options.sha256 === undefined ? undefined : normalizeSha256(options.sha256);
  const expected = explicit ?? pin.sha256;
  let tarball: string | undefined;
  if (options.tarball !== undefined) {
    tarball = path.resolve(options.tarball);
    if (!existsSync(tarball)) {
      throw new SandboxedError("SBX_TEMPLATE_RUNNER_LAYOUT", `no runner tarball at ${tarball}`, {
        hint: "pass the path of actions-runner-linux-x64-<version>.tar.gz",
      });
    }
    const actual = await sha256Of(tarball);
    checkRunnerChecksum({ kind: "tarball", file: tarball }, actual, pin, explicit);
  }
  const hooksDir = path.join(root, "hooks");
  const hooks = GUEST_HOOK_FILES.map((name) => ({
    name,
    content: readFileSync(path.join(hooksDir, name)),
  }));
  const hash = runnerLayerHash({
    baseHash: base.hash,
    runnerSha256: expected,
    hooks,
    recipe: LAYER_SCRIPT,
  });
  const name = runnerTemplateName(base.name);
  const dir = path.join(options.stateDir, "templates", name, hash);
  const built = readManifest(dir);
  if (built && !options.force) return templateOf(dir, built, base, true);

  const started = Date.now();
  tarball ??= await cachedDownload({
    stateDir: options.stateDir,
    pin,
    explicit,
    download: options.download,
    progress,
  });
  progress(`==> check ${path.basename(tarball)}`);
  const listing = await execa("tar", ["--totals", "-tzf", tarball], { reject: false });
  if (listing.exitCode !== 0) {
    throw new SandboxedError(
      "SBX_TEMPLATE_RUNNER_LAYOUT",
      `runner tarball ${tarball} is not a readable .tar.gz: ${String(listing.stderr).trim()}`,
      {
        hint: "use actions-runner-linux-x64-<version>.tar.gz from github.com/actions/runner/releases",
      },
    );
  }
  checkRunnerLayout(tarball, String(listing.stdout).split("\n").filter(Boolean));
  const archiveBytes = parseTarTotal(String(listing.stderr)) ?? 4 * statSync(tarball).size;

  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true });
  prune(parent, base.hash);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  const manifest: RunnerLayerManifest = {
    name,
    hash,
    base: { name: base.name, hash: base.hash },
    runner: { version: runnerVersion(expected, pin), sha256: expected },
    builtAt: new Date().toISOString(),
  };
  const mnt = mkdtempSync(path.join(tmpdir(), "sbx-runner-layer-"));
  try {
    progress(`==> copy ${base.name} ${base.hash} (sparse)`);
    await execa("cp", ["--sparse=always", base.rootImage, path.join(partial, "root.ext4")]);
    for (const file of [base.kernel, base.initrd, path.join(base.dir, "kver")]) {
      if (existsSync(file)) linkOrCopy(file, path.join(partial, path.basename(file)));
    }
    const result = await runScript(
      {
        IMAGE: path.join(partial, "root.ext4"),
        MNT: mnt,
        TARBALL: tarball,
        HOOKS: hooksDir,
        HOOK_FILES: GUEST_HOOK_FILES.join(" "),
        GROW_MIB: String(growMiB(archiveBytes)),
        USER_NAME: base.user.name,
        USER_UID: String(base.user.uid),
        USER_GID: String(base.user.gid),
        MARKER: JSON.stringify(manifest.runner),
        MARKER_NAME: RUNNER_MARKER,
        RUNNER_DIR: runnerGuestDir(base.user.name),
        HOOKS_DIR: GUEST_HOOKS_DIR,
      },
      progress,
    );
    if (result.exitCode !== 0) {
      throw new SandboxedError(
        "SBX_TEMPLATE_RUNNER_BUILD",
        `adding the actions runner to ${base.name} failed (exit ${result.exitCode}):\n${result.tail.slice(-15).join("\n")}`,
        {
          hint: "it needs root, loop devices (modprobe loop), e2fsprogs and util-linux; see the lines above",
        },
      );
    }
    writeFileSync(path.join(partial, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    if (options.force) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(partial, dir);
    } catch (error) {
      // Another build of the same key finished first: its result is as good as ours.
      const theirs = readManifest(dir);
      if (!theirs) throw error;
      rmSync(partial, { recursive: true, force: true });
      return templateOf(dir, theirs, base, true);
    }
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  } finally {
    // Unmounted by the script's trap, or gone with its namespace: only the empty folder is left.
    try {
      rmdirSync(mnt);
    } catch {
      // Never a recursive removal here: were it still mounted, that would empty the image.
    }
  }
  progress(`==> ${name} ${hash} built in ${((Date.now() - started) / 1000).toFixed(0)}s`);
  return templateOf(dir, manifest, base, false);
}

/** Built runner layers of one base template, for `template list`. */
export function listRunnerTemplates(
  stateDir: string,
  baseName: string,
): { readonly hash: string; readonly manifest: RunnerLayerManifest }[] {
  const parent = path.join(stateDir, "templates", runnerTemplateName(baseName));
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((entry) => !entry.includes(".partial"))
    .flatMap((hash) => {
      const manifest = readManifest(path.join(parent, hash));
      return manifest ? [{ hash, manifest }] : [];
    });
}
