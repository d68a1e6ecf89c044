/**
 * TEST-ONLY. A stand-in for the VM sandbox, used only to test the workflow engine's GitHub
 * semantics quickly (a VM boot is ~10 s under TCG). It isolates NOTHING: commands run on this
 * host as root. The isolation is what the sandbox contract suite and the VM end-to-end tests
 * check; never use this outside tests.
 *
 * What it keeps of the VM's behaviour, so the engine cannot tell the difference:
 *  - the work folder: `JobSpec.directories` (with `only`) and `JobSpec.files` are staged into a
 *    temporary folder as vm-disks.ts stages the workspace, and each command runs in a private
 *    mount namespace where that folder is bind-mounted on `/sandbox/work` (the host keeps only
 *    the empty mount point);
 *  - `/usr/local/bin/node` is the template's Node.js: when the host has none there, an overlay on
 *    /usr/local/bin (inside the namespace only) links it to `process.execPath`; likewise `python`
 *    to python3 (the template installs python-is-python3);
 *  - the environment is exactly the agent's base (PATH, HOME, USER, LOGNAME, LANG), then
 *    `JobSpec.env`, then the request's env: nothing of the test process leaks in;
 *  - the working directory is relative to the work folder; each command is its own process
 *    group, killed whole when its timeout passes (`timedOut: true`);
 *  - the report's outcome is the driver's verdict (`infrastructure` when the driver throws).
 */
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import type {
  ExecRequest,
  ExecResult,
  JobControl,
  JobSpec,
  Sandbox,
  SandboxEvent,
  SandboxReport,
} from "../../runner/sandbox/index.js";

const GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const GUEST_NODE = "/usr/local/bin/node";

/**
 * Runs inside the new mount namespace, before the command: $1 work folder, $2 working directory
 * (absolute), $3 overlay folder or '' when /usr/local/bin needs nothing.
 * Absolute paths: the step's env (its PATH) is not ours to rely on.
 */
const ENTER = [
  "set -e",
  "/bin/mkdir -p /sandbox/work",
  '/bin/mount --bind "$1" /sandbox/work',
  'if [ -n "$3" ]; then',
  '  /bin/mount -t overlay overlay -o "lowerdir=/usr/local/bin,upperdir=$3/upper,workdir=$3/work" /usr/local/bin',
  "fi",
  "set +e",
  'cd "$2" 2>/dev/null || { echo "working directory not found: $2" >&2; exit 1; }',
  "unset OLDPWD",
  "shift 3",
  'exec "$@"',
].join("\n");

export interface HostSandboxOptions {
  readonly id?: string;
  readonly onEvent?: (event: SandboxEvent) => void;
}

interface State {
  readonly id: string;
  readonly emit: (event: SandboxEvent) => void;
  dir: string | undefined;
  readonly groups: Set<number>;
}

export function createHostSandbox(options: HostSandboxOptions = {}): Sandbox {
  const state: State = {
    id: options.id ?? `host-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    emit: options.onEvent ?? (() => undefined),
    dir: undefined,
    groups: new Set(),
  };
  return {
    id: state.id,
    run: (spec) => run(state, spec),
    destroy: () => destroy(state),
  };
}

async function run(state: State, spec: JobSpec): Promise<SandboxReport> {
  const started = Date.now();
  state.emit({ type: "phase", phase: "create" });
  const dir = await mkdtemp(path.join(tmpdir(), "sbx-host-sandbox-"));
  state.dir = dir;
  const work = path.join(dir, "work");
  await stage(work, spec);
  const overlay = await prepareOverlay(dir);
  state.emit({ type: "phase", phase: "ready" });
  let outcome: SandboxReport["outcome"];
  let error: string | undefined;
  try {
    const control: JobControl = {
      exec: (request, onOutput) => exec(state, work, overlay, spec, request, onOutput),
    };
    outcome = spec.drive ? await spec.drive(control) : "success";
  } catch (e) {
    outcome = "infrastructure";
    error = (e as Error).message;
  }
  state.emit({ type: "phase", phase: "collect" });
  return {
    id: state.id,
    backend: "host (test stand-in)",
    outcome,
    exitStatus: outcome === "success" ? 0 : outcome === "failure" ? 1 : 70,
    steps: [],
    peaks: {},
    limits: { cpus: 0, memoryBytes: 0, diskBytes: 0, pids: 0, timeoutSeconds: 0 },
    timings: { totalMs: Date.now() - started },
    ...(error === undefined ? {} : { error }),
  };
}

/** As vm-disks.ts stageWorkspace: folders (all, or only the listed entries), then files. */
async function stage(work: string, spec: JobSpec): Promise<void> {
  await mkdir(work, { recursive: true });
  const inside = (rel: string): string => {
    const target = path.resolve(work, rel);
    if (target !== work && !target.startsWith(work + path.sep))
      throw new Error(`path escapes the workspace: ${rel}`);
    return target;
  };
  for (const d of spec.directories ?? []) {
    const target = inside(d.path);
    if (d.only) {
      // Just the listed entries, as the VM does it: tar reads the list, links stay links.
      await mkdir(target, { recursive: true });
      const pack = execa(
        "tar",
        ["-C", d.source, "--null", "--no-recursion", "-T", "-", "-cf", "-"],
        {
          input: d.only.map((f) => `${f}\0`).join(""),
          buffer: { stdout: false },
        },
      );
      await Promise.all([pack, execa("tar", ["-C", target, "-xf", "-"], { stdin: pack.stdout! })]);
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      await cp(d.source, target, { recursive: true, verbatimSymlinks: true });
    }
  }
  for (const f of spec.files ?? []) {
    const target = inside(f.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, f.content, { mode: f.mode ?? 0o644 });
  }
}

/** The guest template's node (and python) where the host lacks them; '' when nothing is needed. */
async function prepareOverlay(dir: string): Promise<string> {
  const links: [string, string][] = [];
  if (!existsSync(GUEST_NODE)) links.push(["node", process.execPath]);
  const onPath = (cmd: string) => GUEST_PATH.split(":").some((d) => existsSync(path.join(d, cmd)));
  if (!onPath("python") && existsSync("/usr/bin/python3"))
    links.push(["python", "/usr/bin/python3"]);
  if (links.length === 0) return "";
  const overlay = path.join(dir, "overlay");
  await mkdir(path.join(overlay, "upper"), { recursive: true });
  await mkdir(path.join(overlay, "work"), { recursive: true });
  for (const [name, target] of links) await symlink(target, path.join(overlay, "upper", name));
  return overlay;
}

function exec(
  state: State,
  work: string,
  overlay: string,
  spec: JobSpec,
  request: ExecRequest,
  onOutput?: (stream: "stdout" | "stderr", text: string) => void,
): Promise<ExecResult> {
  const started = Date.now();
  const env = {
    PATH: GUEST_PATH,
    HOME: "/root",
    USER: "root",
    LOGNAME: "root",
    LANG: "C.UTF-8",
    ...(spec.env ?? {}),
    ...(request.env ?? {}),
  };
  // As the agent resolves it: relative to the work folder.
  const cwd = path.posix.resolve("/sandbox/work", request.workingDirectory ?? ".");
  const child = spawn(
    "/usr/bin/unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      "-c",
      ENTER,
      "sbx-host",
      work,
      cwd,
      overlay,
      ...request.argv,
    ],
    {
      env,
      cwd: "/",
      stdio: [request.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // Its own process group, as in the agent: a timeout kills the step's processes.
      detached: true,
    },
  );
  if (child.pid !== undefined) state.groups.add(child.pid);
  if (request.stdin !== undefined) child.stdin?.end(request.stdin);
  child.stdin?.on("error", () => undefined);
  child.stdout?.on("data", (chunk: Buffer) => onOutput?.("stdout", chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => onOutput?.("stderr", chunk.toString("utf8")));
  let timedOut = false;
  const timer =
    request.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          killGroup(child.pid);
        }, request.timeoutMs);
  return new Promise((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code, signal, durationMs: Date.now() - started, timedOut });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function destroy(state: State): Promise<void> {
  // Whatever a step left running in the background ends with the sandbox, as with the VM.
  for (const pid of state.groups) killGroup(pid);
  state.groups.clear();
  if (state.dir !== undefined) {
    state.emit({ type: "phase", phase: "destroy" });
    await rm(state.dir, { recursive: true, force: true });
    state.dir = undefined;
  }
}
