/** Reasons a job ends at a cap, in the words every backend's report uses. */
import { formatDuration, formatSize } from "../policy/index.js";
import type { Breach } from "./types.js";

export function breachMessage(kind: Breach["kind"], limit: number): string {
  switch (kind) {
    case "memory":
      return `memory limit ${formatSize(limit)} exceeded`;
    case "disk":
      return `disk limit ${formatSize(limit)} reached`;
    case "timeout":
      return `timeout ${formatDuration(limit)}`;
    case "pids":
      return `process limit ${limit}`;
    default: {
      const never: never = kind;
      throw new Error(`unknown breach ${String(never)}`);
    }
  }
}
