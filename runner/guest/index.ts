/** Guest area: the agent protocol the host speaks (the agent itself is agent.ts, run in the guest). */
export {
  AGENT_PORT_NAME,
  hostMessageSchema,
  jobConfigSchema,
  MAX_LINE_BYTES,
  parseAgentLine,
  PROTOCOL_VERSION,
} from "./protocol.js";
export type { AgentMessage, HostMessage, JobConfig, ParsedLine } from "./protocol.js";
