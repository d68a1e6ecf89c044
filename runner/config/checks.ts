/**
 * Rules across keys, which a schema cannot say: exactly one GitHub credential and one scope,
 * label sets that a job can tell apart, a reconcile interval that keeps within GitHub's rate
 * limits. Pure, and defensive about shapes: they run even when the schema found errors, so one
 * pass reports everything (STYLE H7).
 */
import type { ConfigFinding } from "./types.js";
import { parseConfigDuration } from "./values.js";
import { locate } from "./yaml-source.js";
import type { ConfigSource, PathSeg } from "./yaml-source.js";

/** Polling faster than this spends the API rate limit (5,000 requests an hour) for nothing. */
export const MIN_RECONCILE_MS = 10_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

export function crossChecks(source: ConfigSource): ConfigFinding[] {
  const data = source.data;
  if (!isObj(data)) return [];
  const out: ConfigFinding[] = [];
  const at = (path: readonly PathSeg[], message: string, hint: string, on?: "key"): void => {
    out.push({ ...locate(source, path, on), message, hint });
  };
  if (isObj(data.github)) {
    const { app, token } = data.github;
    if (app === undefined && token === undefined) {
      at(
        ["github"],
        "github needs app or token; found neither",
        "add app: { id: 12345, privateKeyFile: /etc/sandboxed/app.pem } or token: { file: /etc/sandboxed/token }",
        "key",
      );
    } else if (app !== undefined && token !== undefined) {
      at(
        ["github", "token"],
        "github has both app and token; it takes one",
        "remove token to use the App, or remove app to use the token",
        "key",
      );
    }
  }
  if (isObj(data.scope)) {
    const { repositories, organization } = data.scope;
    if (repositories === undefined && organization === undefined) {
      at(
        ["scope"],
        "scope needs repositories or organization; found neither",
        "add organization: octo-org, or repositories: [octo-org/app]",
        "key",
      );
    } else if (repositories !== undefined && organization !== undefined) {
      at(
        ["scope", "organization"],
        "scope has both repositories and organization; it takes one",
        "remove repositories to serve every repository of the organization, or remove organization",
        "key",
      );
    }
    if (Array.isArray(repositories)) {
      duplicates(repositories).forEach(([first, again]) =>
        at(
          ["scope", "repositories", again],
          `scope.repositories[${again}] ${JSON.stringify(repositories[again])} is listed twice (also [${first}])`,
          `remove scope.repositories[${again}]`,
        ),
      );
    }
  }
  if (Array.isArray(data.labelSets)) labelSetChecks(data.labelSets, at);
  const interval = isObj(data.reconcile) ? data.reconcile.interval : undefined;
  if (typeof interval === "string") {
    const parsed = parseConfigDuration(interval);
    if (parsed.ok && parsed.ms < MIN_RECONCILE_MS) {
      at(
        ["reconcile", "interval"],
        `reconcile.interval is ${JSON.stringify(interval)}; it must be at least 10s`,
        "write interval: 10s or more; webhooks start jobs at once, polling only catches up",
      );
    }
  }
  return out;
}

function labelSetChecks(
  sets: readonly unknown[],
  at: (path: readonly PathSeg[], message: string, hint: string) => void,
): void {
  const names = sets.map((s) => (isObj(s) ? s.name : undefined));
  duplicates(names).forEach(([first, again]) =>
    at(
      ["labelSets", again, "name"],
      `labelSets[${again}].name ${JSON.stringify(names[again])} is used twice (also labelSets[${first}])`,
      "give each label set its own name",
    ),
  );
  // GitHub compares runner labels without regard to case.
  const keys = sets.map((s, i) => {
    const labels = isObj(s) && Array.isArray(s.labels) ? s.labels : undefined;
    if (!labels || !labels.every((l) => typeof l === "string")) return undefined;
    duplicates(labels).forEach(([first, again]) =>
      at(
        ["labelSets", i, "labels", again],
        `labelSets[${i}].labels[${again}] ${JSON.stringify(labels[again])} is listed twice (also [${first}])`,
        `remove labelSets[${i}].labels[${again}]`,
      ),
    );
    return [...new Set(labels.map((l: string) => l.toLowerCase()))].sort().join(",");
  });
  duplicates(keys).forEach(([first, again]) => {
    const labels = keys[again]!.split(",");
    const extra = ["large", "gpu", "arm64", "extra"].find((l) => !labels.includes(l));
    at(
      ["labelSets", again, "labels"],
      `labelSets[${again}].labels are the same as labelSets[${first}].labels; a job could not tell them apart`,
      `add a label to one of them, e.g. [${[...labels, extra].join(", ")}]`,
    );
  });
}

/** Pairs [first index, later index] of equal values (strings compared without case). */
function duplicates(values: readonly unknown[]): [number, number][] {
  const seen = new Map<string, number>();
  const out: [number, number][] = [];
  values.forEach((v, i) => {
    if (typeof v !== "string") return;
    const key = v.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else out.push([first, i]);
  });
  return out;
}
