/**
 * The host end of the agent's virtio-serial port: a unix socket QEMU connects to. Lines are
 * parsed with the guest protocol's schemas; malformed lines are counted, never trusted.
 */
import { chownSync } from "node:fs";
import net from "node:net";
import { MAX_LINE_BYTES, parseAgentLine } from "../../guest/index.js";
import type { AgentMessage, HostMessage } from "../../guest/index.js";

export interface AgentChannel {
  readonly bad: () => number;
  /** To the guest (interactive mode); false when QEMU is not connected. */
  send(message: HostMessage): boolean;
  close(): void;
}

export async function listenAgent(
  socketPath: string,
  owner: { uid: number; gid: number },
  onMessage: (message: AgentMessage) => void,
): Promise<AgentChannel> {
  let badLines = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const parsed = parseAgentLine(line);
        if (parsed.ok) onMessage(parsed.message);
        else badLines += 1;
      }
      // A guest that never sends a newline must not grow host memory without bound.
      if (buffer.length > MAX_LINE_BYTES) {
        badLines += 1;
        buffer = "";
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  chownSync(socketPath, owner.uid, owner.gid);
  return {
    bad: () => badLines,
    send(message) {
      const line = `${JSON.stringify(message)}\n`;
      for (const s of sockets) s.write(line);
      return sockets.size > 0;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
