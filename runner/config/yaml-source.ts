/**
 * YAML text to plain data plus a document that remembers positions, so every finding points at
 * its node (STYLE H7); the same approach as policy/yaml-source.ts. No I/O: callers pass text.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";
import type { Document, Node, Pair } from "yaml";
import { dotted } from "../policy/index.js";
import type { ConfigFinding, ConfigPos } from "./types.js";

export type PathSeg = string | number;

export interface ConfigSource {
  readonly file: string;
  readonly doc: Document | undefined;
  /** Plain data; null for an empty file; undefined when the YAML did not parse. */
  readonly data: unknown;
  readonly lines: LineCounter;
  readonly findings: ConfigFinding[];
}

/** A service config is a few dozen lines; anything this big is the wrong file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export function parseConfigYaml(file: string, text: string): ConfigSource {
  const lines = new LineCounter();
  const findings: ConfigFinding[] = [];
  const at = (line: number, col: number, message: string, hint?: string): ConfigFinding => ({
    file,
    line,
    col,
    message,
    ...(hint === undefined ? {} : { hint }),
  });
  const failed = (): ConfigSource => ({ file, doc: undefined, data: undefined, lines, findings });
  if (text.length > MAX_CONFIG_BYTES) {
    findings.push(at(1, 1, `file is ${text.length} bytes; the limit is 1 MiB`, "check the path"));
    return failed();
  }
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const list = Array.isArray(docs) ? docs : [];
  const doc = list[0];
  if (!doc) return { file, doc: undefined, data: null, lines, findings };
  const second = list[1];
  if (second) {
    const pos = lines.linePos(second.range[0]);
    findings.push(
      at(pos.line, pos.col, "a second YAML document: a config file holds one", "remove the ---"),
    );
  }
  for (const err of doc.errors) {
    const pos = lines.linePos(err.pos[0]);
    if (err.code === "DUPLICATE_KEY") {
      const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n,{}]+?)\s*:/.exec(text.slice(err.pos[0]))?.[1];
      findings.push(
        at(pos.line, pos.col, `key ${key ?? "?"} appears twice in one mapping`, "remove one"),
      );
    } else {
      const first = (err.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      findings.push(at(pos.line, pos.col, first));
    }
  }
  if (doc.errors.length > 0) return failed();
  try {
    // maxAliasCount bounds "billion laughs" alias expansion.
    return { file, doc, data: doc.toJS({ maxAliasCount: 100 }), lines, findings };
  } catch (error) {
    const first = (error as Error).message.split("\n")[0] ?? "";
    findings.push(at(1, 1, first, "write the values out instead of repeating aliases"));
    return failed();
  }
}

function walk(doc: Document, path: readonly PathSeg[]): { node?: Node; pair?: Pair } {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const hit = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!hit) break;
      pair = hit;
      node = hit.value;
    } else if (isSeq(node) && typeof seg === "number" && node.items[seg] !== undefined) {
      pair = undefined;
      node = node.items[seg];
    } else {
      break;
    }
  }
  return { ...(node ? { node: node as Node } : {}), ...(pair ? { pair } : {}) };
}

/**
 * Position of the node at `path`: its value, or with `on: "key"` the key of its mapping pair. A
 * path that does not exist points at its nearest parent.
 */
export function locate(
  source: ConfigSource,
  path: readonly PathSeg[],
  on: "key" | "value" = "value",
): ConfigPos {
  const fallback = { file: source.file, line: 1, col: 1 };
  if (!source.doc) return fallback;
  const { node, pair } = walk(source.doc, path);
  const key = pair && isScalar(pair.key) ? (pair.key as Node) : undefined;
  const range = (on === "key" && key ? key : node)?.range ?? key?.range;
  if (!range) return fallback;
  const pos = source.lines.linePos(range[0]);
  return { file: source.file, line: pos.line, col: pos.col };
}

/** Positions of every key and list item, by dotted path, for errors raised after loading. */
export function collectOrigins(source: ConfigSource): Record<string, ConfigPos> {
  const out: Record<string, ConfigPos> = {};
  const visit = (node: unknown, path: readonly PathSeg[]): void => {
    if (isMap(node)) {
      for (const p of node.items) {
        if (!isPair(p) || !isScalar(p.key)) continue;
        const next = [...path, String(p.key.value)];
        // A scalar's position is its value (what a later error is about); a section's is its key.
        const range = (isScalar(p.value) ? p.value : (p.key as Node)).range;
        if (range) out[dotted(next)] = pos(source, range[0]);
        visit(p.value, next);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const next = [...path, i];
        const range = (item as Node | null)?.range;
        if (range) out[dotted(next)] = pos(source, range[0]);
        visit(item, next);
      });
    }
  };
  if (source.doc) visit(source.doc.contents, []);
  return out;
}

function pos(source: ConfigSource, offset: number): ConfigPos {
  const p = source.lines.linePos(offset);
  return { file: source.file, line: p.line, col: p.col };
}
