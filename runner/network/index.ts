/** Network area (issue 4): egress proxy, DNS filter and their contracts. */
export type { EgressDecisionLog, Endpoint, Resolver } from "./types.js";
export { createEgressProxy, MAX_HEADER_BYTES } from "./proxy.js";
export type { EgressProxy, EgressProxyOptions, ProxyReason } from "./proxy.js";
export {
  createEgressTally,
  renderEgressSummary,
  STATUS_HOST,
  STATUS_PATH,
} from "./proxy-status.js";
export type { EgressTally, TallySnapshot } from "./proxy-status.js";
export { JOB_HEADER } from "./http-message.js";
export { parseClientHello, MAX_HELLO_BYTES } from "./tls-hello.js";
export type { HelloParse } from "./tls-hello.js";
export { createDnsFilter } from "./dns-filter.js";
export type { DnsFilter, DnsFilterOptions, DnsReason } from "./dns-filter.js";
export { startSandboxEgress, systemResolver, PROXY_PORT, DNS_PORT } from "./sandbox-egress.js";
export type { SandboxEgress, SandboxEgressOptions, SandboxGuestLink } from "./sandbox-egress.js";
export type { EgressListenerOptions } from "./types.js";
