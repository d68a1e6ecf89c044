/**
 * The three disks of a VM sandbox, each recorded in the journal before it exists:
 *  - root: a qcow2 overlay on the template's read-only image;
 *  - workspace: ext4 of exactly the policy's disk size (the disk cap), seeded with the job's
 *    files and folders, owned by the job user;
 *  - config: a small read-only ext4 holding job.json.
 * Formatted on the host from folders (mke2fs -d); never mounted on the host.
 */
import { chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { SandboxedError } from "../../errors/index.js";
import { formatSize } from "../../policy/index.js";
import type { JobSpec, Journal } from "../index.js";
import type { VmTemplate } from "./template.js";

export interface DiskPaths {
  readonly overlay: string;
  readonly workspace: string;
  readonly config: string;
}

export function diskPaths(dir: string): DiskPaths {
  return {
    overlay: path.join(dir, "root.qcow2"),
    workspace: path.join(dir, "workspace.img"),
    config: path.join(dir, "config.img"),
  };
}

/** Stage the workspace's content: job files and folders, all owned by the job user. */
export async function stageWorkspace(
  journal: Journal,
  job: JobSpec,
  user: VmTemplate["user"],
): Promise<string> {
  const filesDir = path.join(journal.dir, "files");
  journal.record({ kind: "dir", path: filesDir });
  const work = path.join(filesDir, "work");
  mkdirSync(work, { recursive: true });
  const inside = (rel: string): string => {
    const target = path.resolve(work, rel);
    if (target !== work && !target.startsWith(work + path.sep))
      throw new SandboxedError("SBX_SANDBOX_PATH_ESCAPES", `path escapes the workspace: ${rel}`, {
        hint: "give paths relative to the workspace, without `..`",
      });
    return target;
  };
  for (const d of job.directories ?? []) {
    const target = inside(d.path);
    if (d.only) {
      // Just the listed entries (the repository's files git does not ignore): tar reads the list
      // from stdin, so there is no argv limit; links stay links.
      mkdirSync(target, { recursive: true });
      await execa("tar", ["-C", d.source, "--null", "--no-recursion", "-T", "-", "-cf", "-"], {
        input: d.only.map((f) => `${f}\0`).join(""),
      }).pipe("tar", ["-C", target, "-xf", "-"]);
    } else {
      mkdirSync(path.dirname(target), { recursive: true });
      // -a keeps modes and symlinks as links; ownership is reset below.
      await execa("cp", ["-a", "--", d.source, target]);
    }
  }
  for (const f of job.files ?? []) {
    const target = inside(f.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, f.content, { mode: f.mode ?? 0o644 });
  }
  await execa("chown", ["-R", "--no-dereference", `${user.uid}:${user.gid}`, work]);
  return filesDir;
}

/** (Re)create the root overlay and the workspace: a retried boot starts from fresh disks. */
export async function createJobDisks(
  paths: DiskPaths,
  template: VmTemplate,
  diskBytes: number,
  filesDir: string,
): Promise<void> {
  rmSync(paths.overlay, { force: true });
  rmSync(paths.workspace, { force: true });
  await execa("qemu-img", [
    "create",
    "-q",
    "-f",
    "qcow2",
    "-b",
    template.rootImage,
    "-F",
    "raw",
    paths.overlay,
  ]);
  // Exactly the policy's disk size: the disk cap. Sparse, formatted on the host, never mounted here.
  await execa("truncate", ["-s", String(diskBytes), paths.workspace]);
  const mkfs = await execa(
    "mke2fs",
    [
      "-q",
      "-t",
      "ext4",
      "-m",
      "0",
      "-L",
      "workspace",
      "-E",
      `lazy_itable_init=1,lazy_journal_init=1,root_owner=${template.user.uid}:${template.user.gid}`,
      "-d",
      filesDir,
      paths.workspace,
    ],
    { reject: false },
  );
  if (mkfs.exitCode !== 0) {
    const { stdout } = await execa("du", ["-sb", filesDir]);
    const used = Number(stdout.split("\t")[0]);
    throw new SandboxedError(
      "SBX_SANDBOX_WORKSPACE_TOO_BIG",
      `the job's files (${Math.round(used / 2 ** 20)}MiB) do not fit in the workspace disk of ${formatSize(diskBytes)}: ${mkfs.stderr.trim().split("\n").pop() ?? ""}`,
      { hint: "raise resources.disk in the policy, or leave large ignored files out" },
    );
  }
}

export async function createConfigDisk(
  journal: Journal,
  paths: DiskPaths,
  configJson: string,
): Promise<void> {
  const configDir = path.join(journal.dir, "config");
  journal.record({ kind: "dir", path: configDir });
  journal.record({ kind: "file", path: paths.config });
  mkdirSync(configDir, { recursive: true });
  writeFileSync(path.join(configDir, "job.json"), configJson, { mode: 0o600 });
  const size = Math.max(8, Math.ceil((Buffer.byteLength(configJson) * 2) / 2 ** 20) + 4);
  await execa("mke2fs", [
    "-q",
    "-t",
    "ext4",
    "-O",
    "^has_journal",
    "-L",
    "config",
    "-d",
    configDir,
    paths.config,
    `${size}M`,
  ]);
}

export function chownDisks(paths: DiskPaths, uid: number): void {
  for (const f of [paths.overlay, paths.workspace, paths.config]) chownSync(f, uid, uid);
}
