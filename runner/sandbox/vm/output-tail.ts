/** A build step's output, followed line by line while it runs, for progress and for its error. */
import type { Readable } from "node:stream";

/** How many of the last lines are kept. */
const KEPT_LINES = 40;

export interface OutputTail {
  /** The last complete lines, oldest first. */
  readonly lines: string[];
  /** What came after the last newline so far: a last line without one. */
  rest(): string;
}

/** Hands each complete line of `stream` to `progress` and keeps the last ones. */
export function followOutput(
  stream: Readable | undefined,
  progress: (line: string) => void,
): OutputTail {
  const lines: string[] = [];
  let pending = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    pending += chunk;
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
      progress(line);
    }
  });
  return { lines, rest: () => pending };
}
