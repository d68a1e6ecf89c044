/**
 * A block scalar holding expressions (`run: |` with `${{ }}` inside). @actions/workflow-parser
 * 0.3.61 builds its `format(…)` from the scalar's raw source: every line keeps the YAML
 * indentation and a folded (`>`) scalar is not folded, so a Python script would not even parse.
 * GitHub's own parsers give the scalar's value. Here the raw source is read back as YAML with its
 * header (so indentation, folding and chomping are YAML's), then each `${{ }}` is replaced, in
 * order, by its expression's value as a string.
 */
import { parse } from "yaml";

export interface BlockScalarExpression {
  readonly source?: string;
  readonly blockScalarHeader?: string;
  readonly originalExpressions?: readonly { readonly expression: string }[];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The scalar's text with `${{ }}` left in place, or undefined when the token is not a block scalar. */
export function blockScalarText(token: BlockScalarExpression): string | undefined {
  if (!token.blockScalarHeader || token.source === undefined) return undefined;
  const body = token.source
    .split("\n")
    .map((line) => (line === "" ? "" : `  ${line}`))
    .join("\n");
  const value = (parse(`v: ${token.blockScalarHeader}\n${body}`) as { v?: unknown } | null)?.v;
  return typeof value === "string" ? value : undefined;
}

/** Substitute each expression's value (already a string) for its `${{ }}`, first to last. */
export function substituteExpressions(
  text: string,
  expressions: readonly string[],
  valueOf: (expression: string) => string,
): string {
  let out = "";
  let rest = text;
  for (const expression of expressions) {
    const m = new RegExp(`\\$\\{\\{\\s*${escape(expression)}\\s*\\}\\}`).exec(rest);
    if (!m) continue;
    out += rest.slice(0, m.index) + valueOf(expression);
    rest = rest.slice(m.index + m[0].length);
  }
  return out + rest;
}

/** A `run:` as written, for a default step name: `Run echo ${{ x }}` as GitHub shows it. */
export function writtenText(token: BlockScalarExpression & { toString(): string }): string {
  return blockScalarText(token) ?? token.source ?? token.toString();
}
