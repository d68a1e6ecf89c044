/**
 * `sudo` for runtimes where setuid cannot work (runsc: gVisor forces no_new_privs). Bound
 * read-only over /usr/bin/sudo when the policy says `sudo: true`; it asks the agent's broker
 * (guest/agent-sudo.ts) to run the command as root and relays its input, output and exit status.
 * It accepts the options CI scripts use (-n -E -H -S -k -u root, --preserve-env, -i/-s, VAR=value)
 * and refuses the rest by name, so a job never gets a silently different meaning.
 */

/** Variables sudo's env_reset keeps here: the proxy's, so `sudo curl` goes the same way out. */
const KEPT = [
  "TERM",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "LANG",
];

export const SUDO_SHIM = `#!/opt/sandboxed/node/bin/node
"use strict";
// sandboxed's sudo (see runner/sandbox/container/sudo-shim.ts in the sandboxed sources).
const net = require("node:net");
// The caller's environment (this runs in the guest; the host's own code reads no environment here).
const { env: callerEnv } = process;
const SOCKET = "/run/sandboxed/sudo.sock";
const KEPT = ${JSON.stringify(KEPT)};
const SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
function die(message) {
  process.stderr.write("sudo: " + message + "\\n");
  process.exit(1);
}
const args = process.argv.slice(2);
let keepEnv = false;
let login = false;
const assigned = {};
while (args.length > 0) {
  const a = args[0];
  if (a === "--") { args.shift(); break; }
  if (a === "-u" || a === "--user") {
    const who = args[1];
    if (who !== "root" && who !== "0" && who !== "#0") die("only root is available here (-u " + who + ")");
    args.splice(0, 2);
    continue;
  }
  if (a === "-E" || a === "--preserve-env" || a.startsWith("--preserve-env=")) { keepEnv = true; args.shift(); continue; }
  if (a === "-i" || a === "--login" || a === "-s" || a === "--shell") { login = true; args.shift(); continue; }
  if (["-n", "--non-interactive", "-H", "--set-home", "-S", "--stdin", "-k", "--reset-timestamp", "-K", "-A"].includes(a)) { args.shift(); continue; }
  if (a === "-v" || a === "--validate") process.exit(0);
  if (a === "-V" || a === "--version") { process.stdout.write("sandboxed sudo shim\\n"); process.exit(0); }
  if (/^-[nEHSk]+$/.test(a)) { if (a.includes("E")) keepEnv = true; args.shift(); continue; }
  if (a.startsWith("-")) die("option " + a + " is not supported by sandboxed's sudo");
  break;
}
while (args.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[0])) {
  const i = args[0].indexOf("=");
  assigned[args[0].slice(0, i)] = args[0].slice(i + 1);
  args.shift();
}
if (login) args.unshift("/bin/bash", ...(args.length > 0 ? ["-c", args.splice(0).join(" ")] : ["-l"]));
if (args.length === 0) die("a command is required");
const env = keepEnv ? { ...callerEnv } : {};
if (!keepEnv) for (const k of KEPT) if (callerEnv[k] !== undefined) env[k] = callerEnv[k];
Object.assign(env, { HOME: "/root", USER: "root", LOGNAME: "root", SHELL: "/bin/bash", SUDO_USER: callerEnv.USER || "", SUDO_UID: String(process.getuid()), SUDO_GID: String(process.getgid()) }, keepEnv ? {} : { PATH: SECURE_PATH }, assigned);
const socket = net.connect(SOCKET);
socket.on("error", (e) => die("the sandbox's sudo broker is not available: " + e.message));
socket.write(JSON.stringify({ argv: args, cwd: process.cwd(), env }) + "\\n");
process.stdin.on("data", (c) => socket.write(JSON.stringify({ i: c.toString("base64") }) + "\\n"));
process.stdin.on("end", () => socket.write(JSON.stringify({ e: 1 }) + "\\n"));
process.stdin.on("error", () => socket.write(JSON.stringify({ e: 1 }) + "\\n"));
let buffer = "";
socket.setEncoding("utf8");
socket.on("data", (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf("\\n")) >= 0) {
    const f = JSON.parse(buffer.slice(0, nl));
    buffer = buffer.slice(nl + 1);
    if (f.o) process.stdout.write(Buffer.from(f.o, "base64"));
    if (f.r) process.stderr.write(Buffer.from(f.r, "base64"));
    if ("x" in f) {
      const code = f.x === null ? 128 + (require("node:os").constants.signals[f.s] || 1) : f.x;
      process.stdout.write("", () => process.exit(code));
    }
  }
});
`;
