/**
 * One boot of a VM sandbox: start jailed QEMU, listen to its agent, and stop it at either clock.
 *  - boot deadline: the guest must say `ready` in time, or QEMU is killed and the boot counts as
 *    stalled (the caller retries once on fresh disks: a TCG guest on a loaded host can hang in
 *    early boot, and that is not the job's fault);
 *  - job timeout: runs from `ready`, as GitHub's timeout-minutes runs from the job's start, so a
 *    slow boot never eats the job's time.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { HostMessage } from "../../guest/index.js";
import { listenAgent } from "./agent-channel.js";
import type { JobState } from "../index.js";

export interface Attempt {
  readonly state: JobState;
  readonly exit: { readonly code: number | null; readonly signal: string | null };
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly bootStalled: boolean;
}

export async function runAttempt(options: {
  readonly launch: { readonly file: string; readonly args: readonly string[] };
  readonly pidfile: string;
  readonly agentSocket: string;
  readonly owner: { readonly uid: number; readonly gid: number };
  readonly bootDeadlineMs: number;
  readonly timeoutMs: number;
  readonly makeState: (send: (message: HostMessage) => boolean, onReady: () => void) => JobState;
  /** Interactive jobs: called at `ready`; must call end() when it has no more commands. */
  readonly drive?: (state: JobState, end: () => void) => Promise<void>;
}): Promise<Attempt> {
  let timedOut = false;
  let bootStalled = false;
  let jobTimer: NodeJS.Timeout | undefined;
  let killQemu = (): void => undefined;
  let send: (message: HostMessage) => boolean = () => false;
  const state = options.makeState(
    (m) => send(m),
    () => {
      clearTimeout(bootTimer);
      jobTimer = setTimeout(() => {
        timedOut = true;
        killQemu();
      }, options.timeoutMs);
      if (options.drive) void options.drive(state, () => send({ t: "end" }));
    },
  );
  const channel = await listenAgent(options.agentSocket, options.owner, (m) => state.onMessage(m));
  send = (m) => channel.send(m);

  const child = spawn(options.launch.file, [...options.launch.args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  writeFileSync(options.pidfile, String(child.pid ?? ""));
  killQemu = () => child.kill("SIGKILL");
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    if (stderr.length < 16_384) stderr += c.toString();
  });
  const bootTimer = setTimeout(() => {
    bootStalled = true;
    killQemu();
  }, options.bootDeadlineMs);
  const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  clearTimeout(bootTimer);
  clearTimeout(jobTimer);
  state.abandon(
    timedOut ? "the job's timeout was reached" : "the VM stopped while a command was running",
  );
  channel.close();
  return { state, exit, stderr, timedOut, bootStalled };
}
