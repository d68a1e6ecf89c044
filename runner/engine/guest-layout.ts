/**
 * Where things live inside the sandbox, mirroring a GitHub-hosted runner's layout under one
 * work folder on the workspace disk (the disk cap covers all of it):
 *
 *   /sandbox/work/<repo>/<repo>          GITHUB_WORKSPACE (the working tree, copied in)
 *   /sandbox/work/_temp                  RUNNER_TEMP (scripts, file commands, the event payload)
 *   /sandbox/work/_actions/<o>/<r>/<ref> remote actions, resolved and cached on the host
 *   /sandbox/work/_tool                  RUNNER_TOOL_CACHE
 */
import path from "node:path";

export const GUEST_WORK = "/sandbox/work";
/** The template's Node.js (vm-templates/build.sh): JavaScript actions run on it. */
export const GUEST_NODE = "/usr/local/bin/node";

export interface GuestLayout {
  /** Relative to the work folder: where the sandbox copies the working tree. */
  readonly workspaceRel: string;
  readonly workspace: string;
  readonly temp: string;
  readonly toolCache: string;
  readonly fileCommands: string;
  readonly eventRel: string;
  readonly eventPath: string;
  /** Relative to the work folder, for remote action folders. */
  actionRel(owner: string, repo: string, ref: string): string;
}

export function guestLayout(repository: string): GuestLayout {
  const name = repository.split("/").pop() ?? "repo";
  const workspaceRel = `${name}/${name}`;
  const eventRel = "_temp/_github_workflow/event.json";
  return {
    workspaceRel,
    workspace: path.posix.join(GUEST_WORK, workspaceRel),
    temp: path.posix.join(GUEST_WORK, "_temp"),
    toolCache: path.posix.join(GUEST_WORK, "_tool"),
    fileCommands: path.posix.join(GUEST_WORK, "_temp", "_runner_file_commands"),
    eventRel,
    eventPath: path.posix.join(GUEST_WORK, eventRel),
    actionRel: (owner, repo, ref) =>
      path.posix.join("_actions", owner, repo, ref.replace(/[^A-Za-z0-9_.-]/g, "_")),
  };
}
