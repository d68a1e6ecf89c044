/**
 * The guest agent protocol, version 1 (docs/guest-protocol.md).
 *
 * Host to guest: `job.json` on the read-only config disk (JobConfig).
 * Guest to host: one JSON object per line on the virtio console port `sandboxed.agent`.
 *
 * The guest is untrusted. The host parses every line with these schemas, caps line length, and
 * never lets a guest message override host-side evidence (its own timer, its cgroup counters):
 * a guest can only lie about its own job.
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1;
export const AGENT_PORT_NAME = "sandboxed.agent";
/** Longest line the host accepts from the guest; output is chunked well below this. */
export const MAX_LINE_BYTES = 256 * 1024;
export const OUTPUT_CHUNK_CHARS = 16 * 1024;

export const jobConfigSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  id: z.string(),
  user: z.strictObject({ name: z.string(), uid: z.number().int(), gid: z.number().int() }),
  sudo: z.boolean(),
  /**
   * Where setuid does not work (gVisor forces no_new_privs), `sudo` is a shim that asks the
   * agent over a root-owned unix socket (agent-sudo.ts): same rule, the job user may act as root.
   */
  sudoBroker: z.boolean().optional(),
  /**
   * RLIMIT_NPROC for the job user's processes, where the uid is the job's alone (gVisor has its
   * own kernel): forks past the cap fail inside, so a fork bomb cannot starve the agent's count.
   */
  nprocLimit: z.number().int().positive().optional(),
  limits: z.strictObject({
    memoryBytes: z.number().int().positive(),
    pids: z.number().int().positive(),
    diskBytes: z.number().int().positive(),
  }),
  /**
   * Absent: no NIC (network.mode none). Present: the guest's one interface, its only resolver
   * (the DNS filter) and its only way out (the egress proxy), both on the host side.
   */
  network: z
    .strictObject({
      mac: z.string(),
      address: z.string(),
      prefix: z.number().int().min(8).max(32),
      gateway: z.string(),
      dns: z.string(),
      proxy: z.strictObject({ host: z.string(), port: z.number().int() }),
    })
    .optional(),
  env: z.record(z.string(), z.string()),
  stopOnFailure: z.boolean(),
  /**
   * After `steps`, wait for `exec` commands from the host on the agent port until `end`: the
   * workflow engine decides each step from the results of the one before.
   */
  interactive: z.boolean().optional(),
  steps: z.array(
    z.strictObject({
      name: z.string(),
      argv: z.array(z.string()).min(1),
      env: z.record(z.string(), z.string()),
      workingDirectory: z.string(),
    }),
  ),
});
export type JobConfig = z.infer<typeof jobConfigSchema>;

export const agentMessageSchema = z.discriminatedUnion("t", [
  z.strictObject({
    t: z.literal("hello"),
    v: z.number().int(),
    agent: z.string(),
    kernel: z.string(),
    uptimeMs: z.number(),
  }),
  z.strictObject({ t: z.literal("ready"), uptimeMs: z.number() }),
  z.strictObject({
    t: z.literal("step-start"),
    i: z.number().int().nonnegative(),
    name: z.string(),
  }),
  z.strictObject({
    t: z.literal("out"),
    i: z.number().int().nonnegative(),
    s: z.enum(["o", "e"]),
    d: z.string(),
  }),
  z.strictObject({
    t: z.literal("step-end"),
    i: z.number().int().nonnegative(),
    code: z.number().int().nullable(),
    signal: z.string().nullable(),
    ms: z.number().nonnegative(),
  }),
  z.strictObject({
    t: z.literal("breach"),
    kind: z.enum(["memory", "disk", "pids"]),
    detail: z.string(),
  }),
  z.strictObject({
    t: z.literal("peaks"),
    memoryBytes: z.number().nonnegative(),
    pids: z.number().int().nonnegative(),
    diskBytes: z.number().nonnegative(),
  }),
  z.strictObject({ t: z.literal("error"), message: z.string() }),
  z.strictObject({ t: z.literal("done") }),
]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;

/**
 * Host to guest, on the same port, in interactive mode. Each `exec` is answered with
 * step-start, out and step-end messages carrying its `i`; one runs at a time.
 */
export const hostMessageSchema = z.discriminatedUnion("t", [
  z.strictObject({
    t: z.literal("exec"),
    i: z.number().int().nonnegative(),
    name: z.string(),
    argv: z.array(z.string()).min(1),
    env: z.record(z.string(), z.string()),
    /** Absolute, or relative to the workspace's work folder. */
    cwd: z.string(),
    /** Written to the command's standard input, then closed. */
    stdin: z.string().optional(),
  }),
  /** Kill what exec `i` started (a step's timeout, or the run was cancelled). */
  z.strictObject({ t: z.literal("kill"), i: z.number().int().nonnegative() }),
  /** No more commands: report peaks, say done, power off. */
  z.strictObject({ t: z.literal("end") }),
]);
export type HostMessage = z.infer<typeof hostMessageSchema>;

export type ParsedLine = { ok: true; message: AgentMessage } | { ok: false; reason: string };

/** Parse one line from the guest. Never throws: a bad line is a protocol error to report. */
export function parseAgentLine(line: string): ParsedLine {
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) return { ok: false, reason: "line too long" };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const parsed = agentMessageSchema.safeParse(json);
  return parsed.success
    ? { ok: true, message: parsed.data }
    : { ok: false, reason: "unknown message" };
}
