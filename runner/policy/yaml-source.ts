/**
 * YAML text to a document that remembers positions, so every finding can point at the exact
 * node (STYLE H7). No I/O here: callers pass text.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";
import type { Document, Node, Pair } from "yaml";
import type { Finding, RuleId, SourcePos } from "./types.js";
import { RULES } from "./rule-catalog.js";

export type PathSeg = string | number;

export interface SourceFile {
  readonly file: string;
  readonly doc: Document | undefined;
  /** Plain data, or undefined when the YAML did not parse. */
  readonly data: unknown;
  readonly lines: LineCounter;
  readonly findings: Finding[];
}

/** Bigger files are refused before parsing: no policy needs them and they cost memory. */
export const MAX_POLICY_BYTES = 1024 * 1024;

export function parseYaml(file: string, text: string): SourceFile {
  const lines = new LineCounter();
  const findings: Finding[] = [];
  const source = (line: number, col: number): SourcePos => ({
    file,
    line,
    col,
    endLine: line,
    endCol: col,
  });
  if (text.length > MAX_POLICY_BYTES) {
    findings.push(
      finding(source(1, 1), "yaml-syntax", `file is ${text.length} bytes; the limit is 1 MiB`, {
        hint: "a policy is a few dozen lines: split presets into their own files",
      }),
    );
    return { file, doc: undefined, data: undefined, lines, findings };
  }
  const all = parseAllDocuments(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const docs = Array.isArray(all) ? all : [];
  const doc = docs[0];
  if (!doc) return { file, doc: undefined, data: null, lines, findings };
  const second = docs[1];
  if (second) {
    // parseDocument would silently drop the second document: say so instead.
    const at = lines.linePos(second.range[0]);
    findings.push(
      finding(
        source(at.line, at.col),
        "yaml-syntax",
        "a second YAML document: a policy file holds exactly one",
        {
          hint: "move the second document to its own file and list it in extends",
        },
      ),
    );
  }
  for (const err of doc.errors) {
    const start = lines.linePos(err.pos[0]);
    const duplicate = err.code === "DUPLICATE_KEY";
    findings.push(
      finding(
        source(start.line, start.col),
        duplicate ? "duplicate-key" : "yaml-syntax",
        duplicate ? duplicateKeyMessage(text, err.pos[0]) : firstLine(err.message),
        duplicate ? { hint: "remove one of the two keys, or merge their values" } : {},
      ),
    );
  }
  if (doc.errors.length > 0) return { file, doc: undefined, data: undefined, lines, findings };
  let data: unknown;
  try {
    // maxAliasCount bounds "billion laughs" alias expansion.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    findings.push(
      finding(source(1, 1), "yaml-syntax", firstLine((error as Error).message), {
        hint: "write the values out instead of repeating aliases",
      }),
    );
    return { file, doc: undefined, data: undefined, lines, findings };
  }
  return { file, doc, data, lines, findings };
}

export function finding(
  pos: SourcePos,
  rule: RuleId,
  message: string,
  extra: { hint?: string | undefined; severity?: "error" | "warning" } = {},
): Finding {
  const out: Finding = {
    ...pos,
    severity: extra.severity ?? RULES[rule].severity,
    rule,
    message,
    ...(extra.hint === undefined ? {} : { hint: extra.hint }),
  };
  return out;
}

/** The yaml library says only "Map keys must be unique": name the key (STYLE H5). */
function duplicateKeyMessage(text: string, offset: number): string {
  const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n,{}]+?)\s*:/.exec(text.slice(offset))?.[1];
  return key ? `key ${key} appears twice in one mapping` : "a key appears twice in one mapping";
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}

interface Located {
  node: Node | undefined;
  pair: Pair | undefined;
}

function walk(doc: Document, path: readonly PathSeg[]): Located {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const hit = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!hit) return { node: node as Node, pair };
      pair = hit;
      node = hit.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) return { node: node as Node, pair };
      pair = undefined;
      node = item;
    } else {
      break;
    }
  }
  return { node: (node ?? undefined) as Node | undefined, pair };
}

/**
 * Position of the node at `path`. `on: "key"` points at the key of the last mapping pair (for
 * unknown keys); otherwise at the value. A path that does not exist points at its nearest parent.
 */
export function locate(
  source: SourceFile,
  path: readonly PathSeg[],
  on: "key" | "value" = "value",
): SourcePos {
  const fallback = { file: source.file, line: 1, col: 1, endLine: 1, endCol: 1 };
  if (!source.doc) return fallback;
  const { node, pair } = walk(source.doc, path);
  const target = on === "key" && pair && isScalar(pair.key) ? (pair.key as Node) : node;
  const range = target?.range ?? (pair?.key as Node | undefined)?.range;
  if (!range) return fallback;
  const start = source.lines.linePos(range[0]);
  const end = source.lines.linePos(range[1]);
  return {
    file: source.file,
    line: start.line,
    col: start.col,
    endLine: end.line,
    endCol: end.col,
  };
}
