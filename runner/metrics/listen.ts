/**
 * Listen addresses as sandboxed.yml writes them: `host:port` (IPv6 in brackets) or
 * `unix:/absolute/path`. One parser for the metrics server and, through this area's index, for
 * anything else that listens.
 */
import { SandboxedError } from "../errors/index.js";

export type ListenAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

const HINT = "write host:port (127.0.0.1:9464, [::1]:9464) or unix:/run/sandboxed/metrics.sock";

function invalid(spec: string, why: string): SandboxedError {
  return new SandboxedError(
    "SBX_METRICS_ADDRESS",
    `listen address ${JSON.stringify(spec)} ${why}`,
    {
      hint: HINT,
    },
  );
}

export function parseListen(spec: string): ListenAddress {
  if (spec.startsWith("unix:")) {
    const path = spec.slice("unix:".length);
    if (!path.startsWith("/")) throw invalid(spec, "needs an absolute socket path");
    return { kind: "unix", path };
  }
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(spec);
  if (!m) throw invalid(spec, "is neither host:port nor unix:/path");
  const port = Number(m[3]);
  if (port > 65535) throw invalid(spec, `has port ${port}, above 65535`);
  return { kind: "tcp", host: m[1] ?? m[2]!, port };
}

/** The address as people write it back: host:port with brackets for IPv6, or unix:/path. */
export function formatListen(address: ListenAddress): string {
  if (address.kind === "unix") return `unix:${address.path}`;
  return address.host.includes(":")
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
