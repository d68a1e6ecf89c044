/**
 * The host's reader of agent output, whatever carries it (a VM's virtio-serial socket, a
 * container's standard output): newline-delimited lines, each parsed with the guest protocol's
 * schemas. Malformed lines are counted, never trusted; a line that never ends is dropped before
 * it can grow host memory without bound.
 */
import { MAX_LINE_BYTES, parseAgentLine } from "../guest/index.js";
import type { AgentMessage } from "../guest/index.js";

export interface AgentLineReader {
  /** Feed raw text as it arrives. */
  push(chunk: string): void;
  /** Lines that did not parse (or never ended). */
  bad(): number;
}

export function agentLineReader(onMessage: (message: AgentMessage) => void): AgentLineReader {
  let buffer = "";
  let badLines = 0;
  return {
    push(chunk) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const parsed = parseAgentLine(line);
        if (parsed.ok) onMessage(parsed.message);
        else badLines += 1;
      }
      if (buffer.length > MAX_LINE_BYTES) {
        badLines += 1;
        buffer = "";
      }
    },
    bad: () => badLines,
  };
}
