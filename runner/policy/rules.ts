/**
 * Lint rules that look at one file on its own: host and CIDR syntax and classes, allow-everything,
 * runc, audit in an enforcing file, allow entries that mode none ignores. They read the raw data
 * defensively, so a file with schema errors still gets every other finding.
 */
import { classesInCidr, IP_CLASS_LABELS, parseCidr } from "./ip-class.js";
import type { IpClass } from "./ip-class.js";
import { parseHostPattern } from "./host-pattern.js";
import type { Finding, RuleId } from "./types.js";
import { parseDuration, parseSize } from "./units.js";
import { finding, locate } from "./yaml-source.js";
import type { PathSeg, SourceFile } from "./yaml-source.js";

const WIDE_PREFIX = { 4: 8, 6: 16 } as const;

/** Classes that lead into the host or its cloud: an error, never a warning. */
const CLASS_RULE: Readonly<Record<IpClass, RuleId | undefined>> = {
  metadata: "metadata-cidr",
  "link-local": "metadata-cidr",
  loopback: "loopback-cidr",
  unspecified: "loopback-cidr",
  private: "private-cidr",
  shared: "private-cidr",
  multicast: "private-cidr",
  reserved: "private-cidr",
  public: undefined,
};

export function fileRules(source: SourceFile): Finding[] {
  const data = asRecord(source.data);
  if (!data) return [];
  const out: Finding[] = [];
  out.push(...rangeRules(source, asRecord(data.resources)));
  const isolation = asRecord(data.isolation);
  if (isolation?.runtime === "runc") {
    out.push(
      finding(
        locate(source, ["isolation", "runtime"]),
        "unhardened-runtime",
        "runtime runc is not hardened: the job shares the host kernel with no extra barrier",
        {
          hint: "use runtime: sysbox-runc or runsc, or backend: vm",
        },
      ),
    );
  }
  const network = asRecord(data.network);
  if (data.enforce === true && network?.mode === "audit") {
    out.push(
      finding(
        locate(source, ["network", "mode"]),
        "audit-in-enforced",
        "network.mode audit allows every destination, and this file is marked enforce: true",
        {
          hint: "write mode: allowlist (run `sandboxed policy suggest <job-log>` to build the list)",
        },
      ),
    );
  }
  const allow = network?.allow;
  if (!Array.isArray(allow)) return out;
  if (network?.mode === "none" && allow.length > 0) {
    out.push(
      finding(
        locate(source, ["network", "allow"], "key"),
        "unused-allow",
        "network.mode none gives the job no network: these allow entries do nothing",
        {
          hint: "remove network.allow, or write mode: allowlist",
        },
      ),
    );
  }
  allow.forEach((entry, index) => {
    out.push(...entryRules(source, entry, ["network", "allow", index]));
  });
  return out;
}

function entryRules(source: SourceFile, entry: unknown, at: readonly PathSeg[]): Finding[] {
  const obj = asRecord(entry);
  const host =
    typeof entry === "string" ? entry : typeof obj?.host === "string" ? obj.host : undefined;
  if (host !== undefined) {
    const where = typeof entry === "string" ? at : [...at, "host"];
    const parsed = parseHostPattern(host);
    if (parsed.ok) return [];
    return [finding(locate(source, where), parsed.rule, parsed.message, { hint: parsed.hint })];
  }
  if (typeof obj?.cidr !== "string") return [];
  const where = [...at, "cidr"];
  const cidr = parseCidr(obj.cidr);
  if (!cidr.ok) {
    return [
      finding(locate(source, where), "invalid-cidr", `cidr ${obj.cidr} ${cidr.message}`, {
        hint: cidr.hint,
      }),
    ];
  }
  if (cidr.prefix === 0) {
    return [
      finding(locate(source, where), "allow-everything", `cidr ${cidr.cidr} allows every address`, {
        hint: "list the networks the job needs",
      }),
    ];
  }
  const out: Finding[] = [];
  const seen = new Set<RuleId>();
  for (const cls of classesInCidr(cidr.cidr)) {
    const rule = CLASS_RULE[cls];
    if (!rule || seen.has(rule)) continue;
    seen.add(rule);
    const label = IP_CLASS_LABELS[cls].human.replace(/address$/, "addresses");
    const hint =
      rule === "private-cidr"
        ? "make sure the job must reach this network; list only the hosts it needs (/32) and their ports"
        : `remove it: a job must never reach the host or its cloud (${label})`;
    out.push(finding(locate(source, where), rule, `cidr ${cidr.cidr} reaches ${label}`, { hint }));
  }
  if (cidr.prefix < WIDE_PREFIX[cidr.family]) {
    out.push(
      finding(
        locate(source, where),
        "broad-cidr",
        `cidr ${cidr.cidr} is wider than /${WIDE_PREFIX[cidr.family]}`,
        {
          hint: "narrow it to the networks the job needs",
        },
      ),
    );
  }
  return out;
}

/** Upper bounds the schema's patterns cannot state: what one job on one host can sensibly get. */
const MAXIMA = [
  { key: "memory", parse: parseSize, max: 2 ** 40, text: "1TiB" },
  { key: "disk", parse: parseSize, max: 64 * 2 ** 40, text: "64TiB" },
  // GitHub cancels a job on a self-hosted runner after 5 days.
  { key: "timeout", parse: parseDuration, max: 5 * 86400, text: "120h" },
] as const;

function rangeRules(source: SourceFile, resources: Record<string, unknown> | undefined): Finding[] {
  const out: Finding[] = [];
  for (const { key, parse, max, text } of MAXIMA) {
    const value = resources?.[key];
    if (typeof value !== "string") continue;
    const parsed = parse(value);
    if (parsed.ok && !(parsed.value <= max)) {
      out.push(
        finding(
          locate(source, ["resources", key]),
          "out-of-range",
          `resources.${key} is ${value}; it must be at most ${text}`,
          {
            hint: `write ${key}: ${text} or less`,
          },
        ),
      );
    }
  }
  return out;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
