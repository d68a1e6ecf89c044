/**
 * Loading a policy or ceilings file and everything it extends. File access is injected
 * (`readFile`), so the whole area stays testable without a disk and free of ambient I/O.
 */
import path from "node:path";
import { fileRules } from "./rules.js";
import type { PolicyInput } from "./schema.js";
import { closest } from "./suggest.js";
import type { Finding, SourcePos } from "./types.js";
import { validateSchema } from "./validate.js";
import { finding, locate, parseYaml } from "./yaml-source.js";
import type { SourceFile } from "./yaml-source.js";

export interface LoadOptions {
  /** Text of a file, or undefined when it does not exist. */
  readonly readFile: (file: string) => string | undefined;
  /** Folder holding the shipped presets (`<name>.yml`). */
  readonly presetDir: string;
  /** Names of the shipped presets, for "did you mean". */
  readonly presetNames: readonly string[];
}

export interface LoadedFile {
  readonly file: string;
  readonly source: SourceFile;
  /** The validated document, or undefined when the file has schema errors. */
  readonly input: PolicyInput | undefined;
  readonly findings: Finding[];
  /** Files this one extends, in order, each with the position of its `extends` entry. */
  readonly parents: readonly { file: string; at: SourcePos }[];
}

export interface LoadGraph {
  readonly entry: string;
  readonly files: ReadonlyMap<string, LoadedFile>;
}

/** Nesting deeper than this is a mistake, not a design. */
const MAX_EXTENDS_DEPTH = 16;

const PRESET_NAME = /^[a-z0-9][a-z0-9-]*$/;

export function loadGraph(entry: string, options: LoadOptions): LoadGraph {
  const files = new Map<string, LoadedFile>();
  const visit = (file: string, stack: readonly string[]): void => {
    if (files.has(file)) return;
    const loaded = loadText(file, options.readFile(file) ?? "");
    files.set(file, loaded);
    // Follow extends even when the file has other errors, so every finding shows at once.
    const raw = (loaded.source.data as { extends?: unknown } | null)?.extends;
    const list = Array.isArray(raw) ? raw : [];
    list.forEach((ref: unknown, index) => {
      if (typeof ref !== "string") return;
      const at = locate(loaded.source, ["extends", index]);
      const target = resolveRef(file, ref, options);
      if (target.ok === false) {
        loaded.findings.push(
          finding(at, "unreachable-extends", target.message, { hint: target.hint }),
        );
        return;
      }
      if (stack.includes(target.file) || target.file === file) {
        const loop = [...stack.slice(stack.indexOf(target.file)), file, target.file];
        loaded.findings.push(
          finding(
            at,
            "extends-cycle",
            `extends ${ref} closes a loop: ${loop.map(shortName).join(" -> ")}`,
            {
              hint: `remove ${ref} from extends in ${shortName(file)}`,
            },
          ),
        );
        return;
      }
      if (stack.length >= MAX_EXTENDS_DEPTH) {
        loaded.findings.push(
          finding(
            at,
            "unreachable-extends",
            `extends nests deeper than ${MAX_EXTENDS_DEPTH} files`,
            {
              hint: "flatten the chain: extend the presets directly",
            },
          ),
        );
        return;
      }
      (loaded.parents as { file: string; at: SourcePos }[]).push({ file: target.file, at });
      visit(target.file, [...stack, file]);
    });
  };
  visit(entry, []);
  return { entry, files };
}

/** Parse and validate one file's text. Pure. */
export function loadText(file: string, text: string): LoadedFile {
  const source = parseYaml(file, text);
  const findings = [...source.findings];
  let input: PolicyInput | undefined;
  // data === null: an empty (or comments-only) file, which validateSchema reports as such.
  if (source.doc || source.data === null) {
    const schema = validateSchema(source);
    findings.push(...schema);
    if (schema.length === 0) input = source.data as PolicyInput;
    findings.push(...fileRules(source));
  }
  return { file, source, input, findings, parents: [] };
}

type RefResult = { ok: true; file: string } | { ok: false; message: string; hint?: string };

function resolveRef(from: string, ref: string, options: LoadOptions): RefResult {
  if (ref.startsWith("./") || ref.startsWith("../") || path.isAbsolute(ref)) {
    const file = path.resolve(path.dirname(from), ref);
    if (options.readFile(file) === undefined) {
      return {
        ok: false,
        message: `extends ${ref}: file not found`,
        hint: `paths are relative to ${path.basename(from)}; check the name`,
      };
    }
    return { ok: true, file };
  }
  if (!PRESET_NAME.test(ref)) {
    return {
      ok: false,
      message: `extends ${ref}: not a preset name and not a relative path`,
      hint: `write a preset name (${options.presetNames.join(", ")}) or a path starting with ./`,
    };
  }
  const file = path.join(options.presetDir, `${ref}.yml`);
  if (!options.presetNames.includes(ref) || options.readFile(file) === undefined) {
    const near = closest(ref, options.presetNames);
    return {
      ok: false,
      message: `extends ${ref}: no such preset`,
      hint: near ? `did you mean ${near}?` : `presets: ${options.presetNames.join(", ")}`,
    };
  }
  return { ok: true, file };
}

function shortName(file: string): string {
  return path.basename(file);
}
