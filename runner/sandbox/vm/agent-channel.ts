/**
 * The host end of the agent's virtio-serial port: a unix socket QEMU connects to. Lines are
 * parsed with the guest protocol's schemas; malformed lines are counted, never trusted.
 */
import { chownSync } from "node:fs";
import net from "node:net";
import type { AgentMessage, HostMessage } from "../../guest/index.js";
import { agentLineReader } from "../index.js";

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
  const readers = new Set<ReturnType<typeof agentLineReader>>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const reader = agentLineReader(onMessage);
    readers.add(reader);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => reader.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  chownSync(socketPath, owner.uid, owner.gid);
  return {
    bad: () => [...readers].reduce((n, r) => n + r.bad(), 0),
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
