/**
 * Running host tools inside a network namespace. The only I/O helpers of the sandbox network; the
 * rule and shaping text they apply is built by the pure files (nft.ts, tc.ts).
 *
 * `netns` undefined means the namespace this process runs in (the root namespace in production).
 */
import { execa } from "execa";
import { SandboxedError } from "../errors/index.js";

/** The command line that runs `file args` inside `netns`. */
export function inNetns(
  netns: string | undefined,
  file: string,
  args: readonly string[],
): { file: string; args: string[] } {
  if (netns === undefined) return { file, args: [...args] };
  // `ip netns exec` also remounts /sys for the namespace, so sysctl sees the namespace's own
  // /proc/sys/net and the interfaces under /sys/class/net are its own.
  return { file: "ip", args: ["netns", "exec", netns, file, ...args] };
}

export async function runInNetns(
  netns: string | undefined,
  file: string,
  args: readonly string[],
  options: { input?: string; step: string } = { step: file },
): Promise<string> {
  const cmd = inNetns(netns, file, args);
  const result = await execa(cmd.file, cmd.args, {
    reject: false,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (result.exitCode !== 0) {
    throw new SandboxedError(
      "SBX_NETWORK_SETUP",
      `sandbox network step "${options.step}" failed (${cmd.file} ${cmd.args.join(" ")}): ` +
        `${String(result.stderr).trim() || `exit ${String(result.exitCode)}`}`,
      {
        hint: "run `sandboxed gc` to remove what was created, and check that iproute2, nftables and tc work as root (`ip netns add probe && ip netns del probe`)",
      },
    );
  }
  return String(result.stdout);
}

/** `ip [-n netns] args`: iproute2 enters the namespace itself. */
export function ip(
  netns: string | undefined,
  args: readonly string[],
  step: string,
): Promise<string> {
  return runInNetns(undefined, "ip", netns === undefined ? args : ["-n", netns, ...args], { step });
}

/** Load an nft script atomically (`nft -f -` applies the whole script or nothing). */
export function applyNft(netns: string | undefined, script: string, step: string): Promise<string> {
  return runInNetns(netns, "nft", ["-f", "-"], { input: script, step });
}

export function sysctl(
  netns: string | undefined,
  settings: Readonly<Record<string, string>>,
  step: string,
): Promise<string> {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  return runInNetns(netns, "sysctl", ["-q", "-w", ...args], { step });
}
