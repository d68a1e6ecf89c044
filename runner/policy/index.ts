/**
 * Policy area: the policy format, its schema, the linter, resolution of extends and ceilings,
 * and the pure decision helpers (host patterns, address classes) that enforcement reuses.
 */
export { API_VERSION, policyJsonSchema, policySchema } from "./schema.js";
export type { PolicyInput } from "./schema.js";
export type {
  AllowRule,
  Backend,
  Finding,
  NetworkMode,
  ResolvedCeilings,
  ResolvedPolicy,
  RuleId,
  Runtime,
  Severity,
  SourcePos,
} from "./types.js";
export { RULES } from "./rule-catalog.js";
export type { RuleInfo } from "./rule-catalog.js";
export type { LoadOptions } from "./load.js";
export { lintPolicyFile, sortFindings } from "./lint.js";
export type { LintResult } from "./lint.js";
export { DEFAULTS, DEFAULT_PORTS } from "./merge.js";
export { describeRule, ruleCovers } from "./checks.js";
export { hostCovers, hostMatches, parseHostPattern } from "./host-pattern.js";
export type { HostPattern } from "./host-pattern.js";
export {
  classesInCidr,
  classifyAddress,
  cidrContains,
  IP_CLASS_LABELS,
  isIpLiteral,
  parseCidr,
} from "./ip-class.js";
export type { IpClass } from "./ip-class.js";
export {
  formatBandwidth,
  formatDuration,
  formatSize,
  parseBandwidth,
  parseDuration,
  parseSize,
} from "./units.js";
export { loadPolicy, loadCeilings, PolicyError } from "./resolve.js";
export { suggestPolicy } from "./suggest-policy.js";
export { closest } from "./suggest.js";
export { describeValue, expectedWords } from "./wording.js";
export { dotted, valueAt } from "./validate.js";
export type { SuggestInput, Suggestion } from "./suggest-policy.js";
export { decideAddress, decideEgress, normalizeHost } from "./decide-egress.js";
export type {
  EgressReason,
  EgressRequest,
  EgressVerdict,
  NetworkPolicy,
  NormalHost,
} from "./decide-egress.js";
