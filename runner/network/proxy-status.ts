/**
 * The proxy's own status page (issue 6 §4): `GET http://sandboxed.internal/egress`, sent through
 * the sandbox's egress proxy, is answered by that proxy with a text summary of this sandbox's own
 * egress decisions, so the runner's job-completed hook can print the denials at the bottom of the
 * GitHub job log. Nothing is forwarded and nothing of another sandbox is visible: each sandbox has
 * its own proxy and its own tally. Pure: the tally, the routing and the text; proxy.ts answers.
 */
import type { EgressDecisionLog } from "./types.js";

/** The name the proxy answers itself, on port 80 only. `.internal` is reserved (ICANN, 2024). */
export const STATUS_HOST = "sandboxed.internal";
export const STATUS_PATH = "/egress";

/** Distinct denied destinations kept; more are counted in `otherDenied` (a job cannot grow it). */
export const MAX_TALLY_KEYS = 1000;
/** Destinations listed in the text; the rest are summed on one line. */
export const MAX_LISTED = 50;

export interface TallyRow {
  readonly kind: EgressDecisionLog["kind"];
  readonly host: string;
  readonly port: number;
  readonly reason: string;
  /** Audit mode: allowed, but enforcement would have denied. */
  readonly wouldDeny: boolean;
  count: number;
}

export interface EgressTally {
  add(log: EgressDecisionLog): void;
  snapshot(): TallySnapshot;
}

export interface TallySnapshot {
  readonly allowed: number;
  readonly denied: number;
  readonly wouldDeny: number;
  /** Denied (or would-deny) decisions beyond MAX_TALLY_KEYS distinct destinations. */
  readonly otherDenied: number;
  readonly rows: readonly TallyRow[];
}

/** Counts decisions; keeps one row per denied destination and reason, bounded. */
export function createEgressTally(): EgressTally {
  let allowed = 0;
  let denied = 0;
  let wouldDeny = 0;
  let otherDenied = 0;
  const rows = new Map<string, TallyRow>();
  return {
    add(log) {
      const flagged = log.verdict === "allow" && log.wouldDeny === true;
      if (log.verdict === "allow") allowed++;
      else denied++;
      if (flagged) wouldDeny++;
      if (log.verdict === "allow" && !flagged) return;
      const key = JSON.stringify([log.kind, log.host, log.port, log.reason, flagged]);
      const row = rows.get(key);
      if (row) row.count++;
      else if (rows.size >= MAX_TALLY_KEYS) otherDenied++;
      else {
        rows.set(key, {
          kind: log.kind,
          host: log.host,
          port: log.port,
          reason: log.reason,
          wouldDeny: flagged,
          count: 1,
        });
      }
    },
    snapshot: () => ({
      allowed,
      denied,
      wouldDeny,
      otherDenied,
      rows: [...rows.values()].map((r) => ({ ...r })),
    }),
  };
}

export type StatusRoute =
  | { readonly kind: "not-status" }
  | { readonly kind: "summary" }
  | { readonly kind: "not-found" }
  | { readonly kind: "method-not-allowed" };

/**
 * Is this absolute-form request for the status page, and may it be answered? Evaluation order:
 * host and port (anything else goes through the policy as usual), then path (404), then
 * method (405: GET only, the page is read-only).
 */
export function statusRoute(
  method: string,
  target: { readonly host: string; readonly port: number; readonly path: string },
): StatusRoute {
  const host = target.host.toLowerCase().replace(/\.$/, "");
  if (host !== STATUS_HOST || target.port !== 80) return { kind: "not-status" };
  if (target.path !== STATUS_PATH) return { kind: "not-found" };
  if (method !== "GET") return { kind: "method-not-allowed" };
  return { kind: "summary" };
}

/** Names come from the job (URLs, CONNECT lines, DNS labels): printable ASCII only. */
function printable(text: string): string {
  return text.replace(/[^\x21-\x7e]/g, "?");
}

function destination(row: TallyRow): string {
  if (row.kind === "dns") return printable(row.host) || "?";
  const host = printable(row.host) || "?";
  return `${host.includes(":") ? `[${host}]` : host}:${row.port}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The page's text: counts, then denied destinations, most frequent first. */
export function renderEgressSummary(snapshot: TallySnapshot, sandboxId: string): string {
  const rows = [...snapshot.rows].sort(
    (a, b) =>
      b.count - a.count ||
      Number(a.wouldDeny) - Number(b.wouldDeny) ||
      destination(a).localeCompare(destination(b)) ||
      a.reason.localeCompare(b.reason),
  );
  const lines = [
    `sandboxed: egress of sandbox ${printable(sandboxId)} (this sandbox's decisions only)`,
    `allowed: ${plural(snapshot.allowed, "decision", "decisions")}` +
      (snapshot.wouldDeny > 0 ? ` (${snapshot.wouldDeny} would be denied when enforced)` : ""),
    `denied: ${plural(snapshot.denied, "decision", "decisions")}`,
  ];
  for (const row of rows.slice(0, MAX_LISTED)) {
    const verb = row.wouldDeny ? "would deny" : "denied";
    lines.push(
      `  ${String(row.count).padStart(5)}x ${verb} ${row.kind} ${destination(row)} (${row.reason})`,
    );
  }
  const hidden = rows.slice(MAX_LISTED).reduce((n, r) => n + r.count, 0) + snapshot.otherDenied;
  if (hidden > 0) {
    lines.push(`  ${String(hidden).padStart(5)}x more, to other destinations (see the job's log)`);
  }
  return `${lines.join("\n")}\n`;
}
