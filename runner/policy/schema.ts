/**
 * The policy format v1: defined once here (STYLE H8). The TypeScript input types, the JSON Schema
 * in policies/policy.schema.json (`sandboxed policy schema`) and the linter's schema checks all
 * come from these zod definitions. Semantics that a schema cannot say (host syntax, CIDR classes,
 * shadowing, ceilings) are lint rules in rules.ts.
 */
import { z } from "zod";
import { BANDWIDTH_PATTERN, DURATION_PATTERN, SIZE_PATTERN } from "./units.js";

export const API_VERSION = "sandboxed/v1";

const size = z
  .string()
  .regex(new RegExp(SIZE_PATTERN))
  .describe("A size: a whole number with KiB, MiB, GiB or TiB, e.g. 4GiB.");
const bandwidth = z
  .string()
  .regex(new RegExp(BANDWIDTH_PATTERN))
  .describe("A rate: a whole number with Kbit, Mbit or Gbit, e.g. 50Mbit.");
const duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN))
  .describe("A duration: whole h, m and s, e.g. 2h, 90m or 1h30m.");
const port = z.number().int().min(1).max(65535).describe("A TCP port, 1-65535.");

export const hostRuleSchema = z
  .strictObject({
    host: z
      .string()
      .describe("A DNS name, or *.name for any name below it. Lowercase, ASCII (punycode)."),
    ports: z.array(port).min(1).optional().describe("Ports allowed. Default: [80, 443]."),
  })
  .describe("A destination by name.");

export const cidrRuleSchema = z
  .strictObject({
    cidr: z.string().describe("An IPv4 or IPv6 network in normal form, e.g. 10.20.0.0/16."),
    ports: z.array(port).min(1).describe("Ports allowed. Required: an address range is explicit."),
  })
  .describe("A destination by address range (linted: private and metadata ranges are flagged).");

export const allowEntrySchema = z.union([
  z.string().describe("A DNS name (ports 80 and 443), or *.name for any name below it."),
  hostRuleSchema,
  cidrRuleSchema,
]);

export const NETWORK_MODES = ["none", "allowlist", "audit"] as const;
export const BACKENDS = ["vm", "container"] as const;
export const RUNTIMES = ["auto", "sysbox-runc", "runsc", "runc"] as const;
export const KINDS = ["Policy", "Ceilings"] as const;

export const policySchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION).describe("Format version. Always sandboxed/v1."),
    kind: z
      .enum(KINDS)
      .describe("Policy: what a job may use. Ceilings: the most an ops team lets a policy ask."),
    description: z.string().optional().describe("Free text for people reading the file."),
    enforce: z
      .boolean()
      .optional()
      .describe("Marks the file as enforcing: the linter rejects network.mode audit."),
    extends: z
      .array(z.string())
      .optional()
      .describe("Presets (by name) or files (./path.yml) merged before this file, in order."),
    isolation: z
      .strictObject({
        backend: z.enum(BACKENDS).optional().describe("vm (QEMU microvm) or container."),
        runtime: z
          .enum(RUNTIMES)
          .optional()
          .describe("Container runtime. auto: sysbox-runc, else runsc. runc is not hardened."),
        sudo: z.boolean().optional().describe("Passwordless sudo for the job user in the guest."),
      })
      .optional(),
    resources: z
      .strictObject({
        cpus: z.number().int().min(1).max(256).optional().describe("Virtual CPUs."),
        memory: size.optional().describe("Guest RAM."),
        disk: size.optional().describe("Workspace disk size (the disk cap)."),
        pids: z.number().int().min(1).max(4194304).optional().describe("Process limit."),
        timeout: duration.optional().describe("Wall-clock limit for the job."),
      })
      .optional(),
    network: z
      .strictObject({
        mode: z
          .enum(NETWORK_MODES)
          .optional()
          .describe("none: no NIC. allowlist: only `allow`. audit: all allowed and recorded."),
        bandwidth: z
          .strictObject({
            egress: bandwidth.optional().describe("Upload rate cap."),
            ingress: bandwidth.optional().describe("Download rate cap."),
          })
          .optional(),
        allow: z.array(allowEntrySchema).optional().describe("Destinations the job may reach."),
      })
      .optional(),
  })
  .describe("A sandboxed policy or ceilings file.");

export type PolicyInput = z.infer<typeof policySchema>;
export type AllowEntryInput = z.infer<typeof allowEntrySchema>;

/** JSON Schema (draft 2020-12) for editors: `# yaml-language-server: $schema=...`. */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, { io: "input", target: "draft-2020-12" });
  return {
    $id: "https://github.com/sandboxed/sandboxed/raw/main/policies/policy.schema.json",
    title: "sandboxed policy",
    ...schema,
  };
}
