/**
 * Environment files a step writes: `GITHUB_ENV`, `GITHUB_OUTPUT`, `GITHUB_STATE` (`NAME=VALUE` or
 * heredoc) and `GITHUB_PATH` (one directory per line).
 *
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#environment-files
 * Parser: actions/runner `src/Runner.Worker/FileCommandManager.cs` (`EnvFileKeyValuePairs`,
 * `AddPathFileCommand`, `SetEnvFileCommand`). Pure: the job runner reads the files and passes text.
 */
import { SandboxedError } from "../errors/index.js";

export interface EnvFileEntry {
  readonly name: string;
  readonly value: string;
  /** 1-based line of `NAME=` or `NAME<<`. */
  readonly line: number;
}

export interface EnvFileOptions {
  /** Applied to file text quoted in error messages (pass the job masker's `redact`, STYLE H5). */
  readonly redact?: (text: string) => string;
}

const FORMAT_HINT =
  "write NAME=VALUE, or NAME<<DELIMITER, the value lines, then DELIMITER on a line of its own";
const DELIMITER_HINT =
  "end the value with a line that is exactly the delimiter; when the value comes from a command or a file without a final newline, print one first: { echo 'NAME<<EOF'; cat file; echo; echo EOF; } >> \"$GITHUB_OUTPUT\"";

interface Line {
  readonly text: string;
  /** Index just past this line's line break (or the end of the content). */
  readonly next: number;
  /** Length of the line break after the text: 0 at the end of the content without one. */
  readonly breakLength: number;
}

/**
 * Reads the line starting at `index`. The runner on Linux splits on LF only; a CR before the LF
 * is also taken as part of the break here (as the runner does on Windows), so a file written with
 * CRLF line ends does not end up with `\r` in every value and a delimiter that never matches.
 */
function readLine(text: string, index: number): Line | undefined {
  if (index >= text.length) return undefined;
  const lf = text.indexOf("\n", index);
  if (lf < 0) return { text: text.slice(index), next: text.length, breakLength: 0 };
  const crlf = lf > index && text[lf - 1] === "\r";
  return {
    text: text.slice(index, crlf ? lf - 1 : lf),
    next: lf + 1,
    breakLength: crlf ? 2 : 1,
  };
}

/**
 * Parses `GITHUB_ENV`, `GITHUB_OUTPUT` or `GITHUB_STATE` content into entries in file order (a
 * later entry of the same name wins when applied).
 *
 * Each non-empty line is `NAME=VALUE`, split on the first `=`, unless `<<` comes before any `=`:
 * then it is `NAME<<DELIMITER`, and the value is every following line up to one that is exactly
 * `DELIMITER`, joined with their line breaks except the last. `file` names the file in errors.
 * Throws SBX_ENGINE_ENV_FILE with GitHub's message and the line number.
 */
export function parseEnvFile(
  content: string,
  file: string,
  options: EnvFileOptions = {},
): EnvFileEntry[] {
  const redact = options.redact ?? ((s: string) => s);
  const error = (line: number, message: string, hint: string): SandboxedError =>
    new SandboxedError("SBX_ENGINE_ENV_FILE", `${file} line ${line}: ${redact(message)}`, {
      hint,
      source: { file, line, col: 1 },
    });
  // File.ReadAllText drops a UTF-8 byte order mark.
  const text = content.startsWith("\uFEFF") ? content.slice(1) : content;
  const entries: EnvFileEntry[] = [];
  let lineNo = 0;
  let at = 0;
  for (let current = readLine(text, at); current; current = readLine(text, at)) {
    lineNo++;
    at = current.next;
    const line = current.text;
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");

    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      // The runner means to reject an empty name here but tests the whole line instead
      // (`string.IsNullOrEmpty(line)`); an empty name would only fail later, so refuse it now.
      if (equals === 0) {
        throw error(lineNo, `Invalid format '${line}'. Name must not be empty`, "write NAME=VALUE");
      }
      entries.push({ name: line.slice(0, equals), value: line.slice(equals + 1), line: lineNo });
      continue;
    }
    if (heredoc < 0) throw error(lineNo, `Invalid format '${line}'`, FORMAT_HINT);

    const name = line.slice(0, heredoc);
    const delimiter = line.slice(heredoc + 2);
    if (name === "" || delimiter === "") {
      throw error(
        lineNo,
        `Invalid format '${line}'. Name must not be empty and delimiter must not be empty`,
        "write NAME<<DELIMITER, e.g. NAME<<EOF, with the value on the following lines",
      );
    }
    const startLine = lineNo;
    const valueStart = at;
    let valueEnd = at;
    for (;;) {
      const valueLine = readLine(text, at);
      if (valueLine === undefined) {
        const message = `Invalid value. Matching delimiter not found '${delimiter}'`;
        throw error(startLine, message, DELIMITER_HINT);
      }
      lineNo++;
      at = valueLine.next;
      if (valueLine.text === delimiter) break;
      // The last line of the file is neither the delimiter nor ends in a line break.
      if (valueLine.breakLength === 0) {
        throw error(lineNo, "Invalid value. EOF marker missing new line.", DELIMITER_HINT);
      }
      valueEnd = valueLine.next - valueLine.breakLength;
    }
    entries.push({ name, value: text.slice(valueStart, valueEnd), line: startLine });
  }
  return entries;
}

/** An entry GitHub refuses to take from `GITHUB_ENV`, with the error annotation it shows. */
export interface BlockedEnvEntry {
  readonly name: string;
  readonly line: number;
  readonly message: string;
}

/**
 * `GITHUB_ENV`: `parseEnvFile` plus GitHub's block list. `NODE_OPTIONS` (any case) is skipped with
 * an error annotation and the step goes on (SetEnvFileCommand `_setEnvBlockList`): letting a step
 * inject `--require` into every later action's node would defeat the action boundary.
 */
export function parseGithubEnv(
  content: string,
  file = "GITHUB_ENV",
  options: EnvFileOptions = {},
): { readonly env: EnvFileEntry[]; readonly blocked: BlockedEnvEntry[] } {
  const env: EnvFileEntry[] = [];
  const blocked: BlockedEnvEntry[] = [];
  for (const entry of parseEnvFile(content, file, options)) {
    if (entry.name.toUpperCase() === "NODE_OPTIONS") {
      blocked.push({
        name: entry.name,
        line: entry.line,
        message: "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.",
      });
    } else {
      env.push(entry);
    }
  }
  return { env, blocked };
}

/**
 * `GITHUB_PATH` content: one entry per line, file order, empty lines skipped (the runner uses
 * `File.ReadAllLines`, which splits on CRLF, LF and CR). Entries are not trimmed.
 */
export function parsePathFile(content: string): string[] {
  const text = content.startsWith("\uFEFF") ? content.slice(1) : content;
  return text.split(/\r\n|\n|\r/).filter((line) => line !== "");
}

/**
 * Prepends `added` (in file order) to the entries already prepended, latest first: an entry added
 * again moves to the front instead of appearing twice (AddPathFileCommand removes, then re-adds;
 * the runner builds PATH from that list reversed). Returns a new list; `current` is not changed.
 */
export function applyPath(current: readonly string[], added: readonly string[]): string[] {
  let result = [...current];
  for (const entry of added) result = [entry, ...result.filter((e) => e !== entry)];
  return result;
}

/** The PATH a step sees: the prepended entries (latest first), then the job's PATH. */
export function composePath(prepended: readonly string[], basePath: string): string {
  return [...prepended, ...(basePath === "" ? [] : [basePath])].join(":");
}
