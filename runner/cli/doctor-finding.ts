/** What every doctor check returns (doctor.ts, doctor-docker.ts). */
export type Level = "ok" | "warn" | "fail";

export interface Finding {
  readonly check: string;
  /** level === "ok" */
  readonly ok: boolean;
  readonly level: Level;
  readonly detail: string;
  /** The command or change that fixes it; absent when there is nothing to do. */
  readonly fix?: string;
}

/** A tool's `--version` answer: the first line it printed, or why it could not run. */
export type ToolFact =
  | { readonly found: true; readonly output: string }
  | { readonly found: false; readonly error: string };

export function finding(check: string, level: Level, detail: string, fix?: string): Finding {
  return { check, ok: level === "ok", level, detail, ...(fix ? { fix } : {}) };
}
