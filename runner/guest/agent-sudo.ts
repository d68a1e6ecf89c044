/**
 * The agent's sudo broker, for runtimes where setuid cannot work (gVisor forces no_new_privs, so
 * the real sudo refuses). The host binds a shim over /usr/bin/sudo (sandbox/container/sudo-shim.ts)
 * that sends its command here over a unix socket only root and the job user's group can open; the
 * agent runs it as root, with the container's sudo capabilities, and streams it back. It grants
 * exactly what `NOPASSWD: ALL` grants in the VM, and only when the policy says `sudo: true`.
 *
 * Frames are JSON lines. Shim → agent: first `{argv, cwd, env}`, then `{i: base64}` (stdin) and
 * `{e: 1}` (stdin closed). Agent → shim: `{o: base64}`, `{r: base64}` (stdout, stderr), then
 * `{x: code, s: signal}`. A shim that goes away takes its command with it.
 */
import { spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, rmSync } from "node:fs";
import net from "node:net";
import { z } from "zod";

export const SUDO_SOCKET = "/run/sandboxed/sudo.sock";

const request = z.strictObject({
  argv: z.array(z.string()).min(1),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
});

function serve(socket: net.Socket): void {
  let buffer = "";
  let child: ReturnType<typeof spawn> | undefined;
  const reply = (frame: object): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(frame)}\n`);
  };
  const onLine = (line: string): void => {
    let frame: unknown;
    try {
      frame = JSON.parse(line);
    } catch {
      socket.destroy();
      return;
    }
    if (!child) {
      const parsed = request.safeParse(frame);
      if (!parsed.success) {
        reply({ r: Buffer.from("sudo: bad request\n").toString("base64") });
        reply({ x: 1, s: null });
        socket.end();
        return;
      }
      const { argv, cwd, env } = parsed.data;
      child = spawn(argv[0]!, argv.slice(1), {
        cwd,
        env,
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
      });
      child.stdout!.on("data", (c: Buffer) => reply({ o: c.toString("base64") }));
      child.stderr!.on("data", (c: Buffer) => reply({ r: c.toString("base64") }));
      child.stdin!.on("error", () => undefined);
      child.on("error", (error) => {
        reply({ r: Buffer.from(`sudo: ${argv[0]}: ${error.message}\n`).toString("base64") });
        reply({ x: 1, s: null });
        socket.end();
      });
      child.on("close", (code, signal) => {
        reply({ x: code, s: signal });
        socket.end();
      });
      return;
    }
    const f = frame as { i?: string; e?: number };
    if (typeof f.i === "string") child.stdin!.write(Buffer.from(f.i, "base64"));
    if (f.e) child.stdin!.end();
  };
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
    if (buffer.length > 1 << 20) socket.destroy();
  });
  socket.on("error", () => undefined);
  // The shim was killed (a step timeout, a cancel): its command goes too.
  socket.on("close", () => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

/** Listen on SUDO_SOCKET, open to root and the job user's group only. */
export async function startSudoBroker(gid: number): Promise<net.Server> {
  mkdirSync("/run/sandboxed", { recursive: true, mode: 0o755 });
  rmSync(SUDO_SOCKET, { force: true });
  const server = net.createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(SUDO_SOCKET, () => resolve());
  });
  chownSync(SUDO_SOCKET, 0, gid);
  chmodSync(SUDO_SOCKET, 0o660);
  server.unref();
  return server;
}
