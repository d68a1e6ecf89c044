/**
 * The one error class every area throws (STYLE H5, after pnpm's PnpmError).
 *
 * `code` is stable (`SBX_<AREA>_<WHAT>`) and listed in docs/errors.md; `hint` states the fix as a
 * command or replacement text; `source` points at the offending file position when there is one.
 * Only `cli/` renders these (H6).
 */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export class SandboxedError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly source: SourceRef | undefined;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; source?: SourceRef; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SandboxedError";
    this.code = code;
    this.hint = options.hint;
    this.source = options.source;
  }
}

export function isSandboxedError(error: unknown): error is SandboxedError {
  return error instanceof SandboxedError;
}
