/**
 * The workspace every backend gives a job: an ext4 image of exactly the policy's disk size (the
 * disk cap), formatted on the host from a staged folder of the job's files and the repository's
 * tree, owned by the job user. A VM attaches it as a disk; a container gets it loop-mounted.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { SandboxedError } from "../errors/index.js";
import { formatSize } from "../policy/index.js";
import type { Journal } from "./records.js";
import type { JobSpec } from "./types.js";

export interface JobUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** Stage the workspace's content: job files and folders, all owned by the job user. */
export async function stageWorkspace(
  journal: Journal,
  job: JobSpec,
  user: JobUser,
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

/** Create `image` (sparse, exactly `diskBytes`) as ext4 holding `filesDir`; a clear error if it does not fit. */
export async function formatWorkspace(
  image: string,
  diskBytes: number,
  filesDir: string,
  user: JobUser,
): Promise<void> {
  // Exactly the policy's disk size: the disk cap. Sparse, formatted on the host, never mounted here.
  await execa("truncate", ["-s", String(diskBytes), image]);
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
      `lazy_itable_init=1,lazy_journal_init=1,root_owner=${user.uid}:${user.gid}`,
      "-d",
      filesDir,
      image,
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
