/** The one place errors become text (STYLE H6): known codes print message and hint, others a stack. */
import { isSandboxedError } from "../errors/index.js";

export function renderError(error: unknown): string {
  if (isSandboxedError(error)) {
    const where = error.source
      ? `${error.source.file}:${error.source.line}:${error.source.col}: `
      : "";
    const hint = error.hint ? `\n  hint: ${error.hint.split("\n").join("\n        ")}` : "";
    return `sandboxed: ${where}${error.message} [${error.code}]${hint}\n`;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `sandboxed: internal error (please report it with this output):\n${stack}\n`;
}
