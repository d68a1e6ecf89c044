/**
 * How a finding names the value it got and the type it expected. Shared by the policy linter and
 * config's findings, so both say it the same way.
 */

/** The value as a finding quotes it: strings in quotes, lists and mappings by kind. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** A schema type in words, with its article: "object" is "a mapping". */
export function expectedWords(expected: string): string {
  const words: Record<string, string> = {
    object: "a mapping",
    array: "a list",
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
  };
  return words[expected] ?? expected;
}
