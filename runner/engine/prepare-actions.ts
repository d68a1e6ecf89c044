/**
 * Before a job's sandbox boots, every `uses:` of the job, and of the composite actions it uses,
 * is resolved to a folder the sandbox will hold: local actions are already in the copied working
 * tree, remote ones come from the action cache (fetched under the policy, by resolved commit) and
 * are copied to _actions/<owner>/<repo>/<ref>. A missing or unsupported action fails here, with
 * its line, before any VM exists.
 */
import path from "node:path";
import { SandboxedError } from "../errors/index.js";
import type { ActionCache } from "./action-fetch.js";
import { loadActionMetadata } from "./action-metadata.js";
import type { ActionMetadata } from "./action-metadata.js";
import { GUEST_WORK } from "./guest-layout.js";
import type { GuestLayout } from "./guest-layout.js";
import type { PreparedAction } from "./step-kinds.js";
import { parseUses } from "./action-ref.js";
import type { ActionUses } from "./action-ref.js";

export interface PreparedActions {
  readonly actions: Map<string, PreparedAction>;
  /** Folders to copy into the workspace (relative to the work folder). */
  readonly directories: { source: string; path: string }[];
}

/** Composite actions inside composite actions: deeper is refused (a cycle would never end). */
const MAX_DEPTH = 10;

/** `uses:` values inside a composite action's steps. */
function compositeUses(metadata: ActionMetadata): ActionUses[] {
  if (metadata.runs.using !== "composite") return [];
  return metadata.runs.steps.flatMap((s) =>
    s.uses ? [parseUses(s.uses.value, s.uses.source)] : [],
  );
}

export async function prepareActions(
  uses: readonly ActionUses[],
  options: {
    readonly repoRoot: string;
    readonly layout: GuestLayout;
    readonly cache: ActionCache | undefined;
  },
): Promise<PreparedActions> {
  const actions = new Map<string, PreparedAction>();
  const directories: { source: string; path: string }[] = [];
  const copied = new Set<string>();
  // Each entry carries how deep in composite actions it was found.
  const queue = uses.map((ref) => ({ ref, depth: 0 }));
  while (queue.length > 0) {
    const { ref, depth } = queue.shift()!;
    const nested = (m: ActionMetadata) =>
      compositeUses(m).map((r) => ({ ref: r, depth: depth + 1 }));
    if (actions.has(ref.uses)) continue;
    if (depth > MAX_DEPTH)
      throw new SandboxedError(
        "SBX_ENGINE_ACTION_DEPTH",
        `composite actions nest more than ${MAX_DEPTH} deep at ${ref.uses}`,
        {
          hint: "flatten the composite actions (GitHub stops at 10 levels)",
          source: ref.source,
        },
      );
    if (ref.kind === "checkout") {
      actions.set(ref.uses, { kind: "checkout", uses: ref.uses });
      continue;
    }
    if (ref.kind === "local") {
      const rel = ref.path;
      const dir = path.join(options.repoRoot, rel);
      const metadata = await loadActionMetadata(dir, ref.uses);
      actions.set(ref.uses, {
        kind: "action",
        uses: ref.uses,
        guestDir: path.posix.join(options.layout.workspace, rel),
        metadata,
      });
      queue.push(...nested(metadata));
      continue;
    }
    if (!options.cache)
      throw new SandboxedError(
        "SBX_ENGINE_ACTION_OFFLINE",
        `${ref.uses} is a remote action, and this run may not fetch actions`,
        {
          hint: "drop --offline, or vendor the action into the repository and use ./path",
          source: ref.source,
        },
      );
    const resolved = await options.cache.resolve(ref);
    const rel = options.layout.actionRel(ref.owner, ref.repo, ref.ref);
    if (!copied.has(rel)) {
      copied.add(rel);
      directories.push({ source: resolved.root, path: rel });
    }
    const metadata = await loadActionMetadata(resolved.dir, ref.uses);
    actions.set(ref.uses, {
      kind: "action",
      uses: ref.uses,
      guestDir: path.posix.join(GUEST_WORK, rel, ref.path ?? ""),
      metadata,
      repository: `${ref.owner}/${ref.repo}`,
      ref: ref.ref,
    });
    queue.push(...nested(metadata));
  }
  return { actions, directories };
}
