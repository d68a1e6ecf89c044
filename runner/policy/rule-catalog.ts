import type { RuleId, Severity } from "./types.js";

export interface RuleInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** One row per rule; docs/policy.md#lint-rules mirrors this table (a test checks it). */
export const RULES: Readonly<Record<RuleId, RuleInfo>> = {
  "yaml-syntax": { severity: "error", summary: "The file is not valid YAML." },
  "duplicate-key": { severity: "error", summary: "A mapping has the same key twice." },
  schema: {
    severity: "error",
    summary: "A value has the wrong type, or a required key is missing.",
  },
  "unknown-key": { severity: "error", summary: "A key the format does not define." },
  "invalid-unit": { severity: "error", summary: "A size, rate or duration not in normal form." },
  "out-of-range": { severity: "error", summary: "A value outside what a sandbox can run with." },
  "invalid-host": { severity: "error", summary: "A host that is not a lowercase ASCII DNS name." },
  "invalid-cidr": {
    severity: "error",
    summary: "A CIDR that does not parse or has host bits set.",
  },
  "allow-everything": { severity: "error", summary: "An entry that allows every destination." },
  "ip-literal-host": { severity: "error", summary: "An IP address written as a host name." },
  "private-cidr": { severity: "warning", summary: "A CIDR reaching private address space." },
  "metadata-cidr": {
    severity: "error",
    summary: "A CIDR reaching link-local or cloud metadata addresses.",
  },
  "loopback-cidr": { severity: "error", summary: "A CIDR reaching loopback addresses." },
  "broad-cidr": { severity: "warning", summary: "A CIDR wider than /8 (IPv4) or /16 (IPv6)." },
  "exceeds-ceiling": { severity: "error", summary: "A value above the ops ceilings." },
  "duplicate-entry": { severity: "warning", summary: "An allow entry listed twice." },
  "shadowed-entry": { severity: "warning", summary: "An allow entry already covered by another." },
  "unhardened-runtime": { severity: "warning", summary: "The runc runtime: not hardened." },
  "audit-in-enforced": { severity: "error", summary: "Audit mode in a file marked enforce: true." },
  "unused-allow": { severity: "warning", summary: "Allow entries with network.mode none." },
  "unreachable-extends": { severity: "error", summary: "An extends entry that cannot be found." },
  "extends-cycle": { severity: "error", summary: "Files that extend each other in a loop." },
};
