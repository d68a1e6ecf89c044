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

import { formatWorkspace } from "../index.js";
import type { Journal } from "../index.js";
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
  await formatWorkspace(paths.workspace, diskBytes, filesDir, template.user);
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
