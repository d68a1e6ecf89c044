/**
 * What the host learns from the agent during one boot: step results, breaches, peaks, and the
 * interactive execs the workflow engine is waiting on. One state per boot attempt, so a retried
 * boot starts clean.
 */
import type { AgentMessage, HostMessage } from "../guest/index.js";
import type {
  Breach,
  ExecRequest,
  ExecResult,
  JobControl,
  SandboxEvent,
  SandboxReport,
  StepResult,
} from "./types.js";

interface PendingExec {
  readonly started: number;
  readonly onOutput: ((stream: "stdout" | "stderr", text: string) => void) | undefined;
  readonly resolve: (result: ExecResult) => void;
  readonly reject: (error: Error) => void;
  timedOut: boolean;
  timer?: NodeJS.Timeout;
}

export interface JobState {
  readonly steps: StepResult[];
  breach: Breach | undefined;
  done: boolean;
  ready: boolean;
  agentError: string | undefined;
  peaks: SandboxReport["peaks"];
  onMessage(message: AgentMessage): void;
  /** For the engine: execs numbered after the config steps. */
  readonly control: JobControl;
  /** QEMU is gone: every exec still waiting fails. */
  abandon(reason: string): void;
}

export function createJobState(options: {
  readonly firstExec: number;
  readonly emit: (event: SandboxEvent) => void;
  readonly send: (message: HostMessage) => boolean;
  readonly breachOf: (kind: "memory" | "disk" | "pids") => Breach;
  readonly onReady: () => void;
  readonly now: () => number;
}): JobState {
  const { emit } = options;
  const stepNames: string[] = [];
  const pending = new Map<number, PendingExec>();
  let nextExec = options.firstExec;
  let abandoned: string | undefined;

  const state: JobState = {
    steps: [],
    breach: undefined,
    done: false,
    ready: false,
    agentError: undefined,
    peaks: {},
    onMessage(m) {
      const exec = "i" in m ? pending.get(m.i) : undefined;
      switch (m.t) {
        case "hello":
          break;
        case "ready":
          state.ready = true;
          emit({ type: "phase", phase: "ready" });
          options.onReady();
          break;
        case "step-start":
          if (!exec) {
            stepNames[m.i] = m.name;
            emit({ type: "step-start", index: m.i, name: m.name });
          }
          break;
        case "out": {
          const stream = m.s === "o" ? "stdout" : "stderr";
          // An exec's output goes to its caller only: the engine masks secrets before showing it.
          if (exec) exec.onOutput?.(stream, m.d);
          else emit({ type: "output", index: m.i, stream, text: m.d });
          break;
        }
        case "step-end": {
          if (exec) {
            pending.delete(m.i);
            clearTimeout(exec.timer);
            exec.resolve({
              exitCode: m.code,
              signal: m.signal,
              durationMs: m.ms,
              timedOut: exec.timedOut,
            });
            break;
          }
          const result = {
            name: stepNames[m.i] ?? `step ${m.i}`,
            exitCode: m.code,
            signal: m.signal,
            durationMs: m.ms,
          };
          state.steps[m.i] = result;
          emit({ type: "step-end", index: m.i, result });
          break;
        }
        case "breach":
          state.breach ??= options.breachOf(m.kind);
          break;
        case "peaks":
          state.peaks = { memoryBytes: m.memoryBytes, pids: m.pids, diskBytes: m.diskBytes };
          break;
        case "error":
          state.agentError = m.message;
          break;
        case "done":
          state.done = true;
          break;
        default: {
          const never: never = m;
          throw new Error(`unhandled agent message ${JSON.stringify(never)}`);
        }
      }
    },
    control: {
      exec(request: ExecRequest, onOutput) {
        if (abandoned) return Promise.reject(new Error(abandoned));
        const i = nextExec++;
        return new Promise<ExecResult>((resolve, reject) => {
          const entry: PendingExec = {
            started: options.now(),
            onOutput,
            resolve,
            reject,
            timedOut: false,
          };
          pending.set(i, entry);
          request.signal?.addEventListener("abort", () => options.send({ t: "kill", i }), {
            once: true,
          });
          if (request.timeoutMs !== undefined) {
            entry.timer = setTimeout(() => {
              entry.timedOut = true;
              options.send({ t: "kill", i });
            }, request.timeoutMs);
          }
          const sent = options.send({
            t: "exec",
            i,
            name: request.name,
            argv: [...request.argv],
            env: { ...(request.env ?? {}) },
            cwd: request.workingDirectory ?? ".",
            ...(request.stdin === undefined ? {} : { stdin: request.stdin }),
          });
          if (!sent) state.abandon("the sandbox's agent is not connected");
        });
      },
    },
    abandon(reason) {
      abandoned ??= reason;
      for (const [i, exec] of pending) {
        pending.delete(i);
        clearTimeout(exec.timer);
        exec.reject(new Error(reason));
      }
    },
  };
  return state;
}
