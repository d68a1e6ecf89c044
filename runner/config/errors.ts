/**
 * The config area's errors (STYLE H5). Codes are listed in docs/errors.md, "Service config".
 */
import { SandboxedError } from "../errors/index.js";
import type { ConfigFinding } from "./types.js";

/** Collect every finding, but list at most this many: past it, the file is the wrong file. */
export const MAX_LISTED_FINDINGS = 50;

export const EXAMPLE_CONFIG = "examples/serve/sandboxed.yml";

/** SBX_CONFIG_INVALID: every finding, each `file:line:col message (fix)`. */
export class ServiceConfigError extends SandboxedError {
  readonly findings: readonly ConfigFinding[];
  constructor(file: string, findings: readonly ConfigFinding[]) {
    const listed = findings.slice(0, MAX_LISTED_FINDINGS);
    const more = findings.length - listed.length;
    const first = findings[0];
    super(
      "SBX_CONFIG_INVALID",
      `${file}: ${findings.length} error${findings.length === 1 ? "" : "s"}\n` +
        listed
          .map((f) => `  ${f.file}:${f.line}:${f.col} ${f.message}${f.hint ? ` (${f.hint})` : ""}`)
          .join("\n") +
        (more > 0 ? `\n  … and ${more} more` : ""),
      {
        hint: first?.hint ?? "every key is described in docs/configuration.md",
        ...(first ? { source: { file: first.file, line: first.line, col: first.col } } : {}),
      },
    );
    this.name = "ServiceConfigError";
    this.findings = findings;
  }
}

export function configMissing(file: string): SandboxedError {
  return new SandboxedError("SBX_CONFIG_MISSING", `${file}: no such file`, {
    hint: `create it from the example shipped with sandboxed: cp ${EXAMPLE_CONFIG} ${file}, then set github and scope (docs/configuration.md)`,
  });
}

export function configUnreadable(file: string, error: NodeJS.ErrnoException): SandboxedError {
  if (error.code === "EISDIR") {
    return new SandboxedError("SBX_CONFIG_UNREADABLE", `${file} is a folder, not a file`, {
      hint: `pass the file itself, e.g. ${file.replace(/\/$/, "")}/sandboxed.yml`,
      cause: error,
    });
  }
  return new SandboxedError(
    "SBX_CONFIG_UNREADABLE",
    `cannot read ${file}: ${error.code ?? error.message}`,
    {
      // The config holds no secrets (only paths to them), so readable by all is fine.
      hint: `make it readable by the user running sandboxed serve: chmod 644 ${file}`,
      cause: error,
    },
  );
}

export function secretError(message: string, hint: string, cause?: unknown): SandboxedError {
  return new SandboxedError("SBX_CONFIG_SECRET", message, {
    hint,
    ...(cause === undefined ? {} : { cause }),
  });
}
