// STYLE H1/H2: areas import each other only through index.ts, dependencies point one way, and
// only cli/ touches process.env. These checks read the source, so they fail on the commit that
// breaks the rule.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve("runner");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith(".ts") ? [full] : [];
  });
}

const areaOf = (file: string): string => {
  const rel = path.relative(ROOT, file).split(path.sep);
  // sandbox/vm and sandbox/container are areas of their own.
  return rel[0] === "sandbox" && (rel[1] === "vm" || rel[1] === "container") && rel.length > 2
    ? `${rel[0]}/${rel[1]}`
    : rel[0]!;
};

/** Who may import whom (H2). Leaves import nothing but errors. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  config: ["errors", "policy"],
  policy: ["errors"],
  logs: ["errors"],
  metrics: ["errors"],
  network: ["errors", "policy", "logs"],
  guest: ["errors"],
  sandbox: ["errors", "policy", "network", "guest", "logs"],
  "sandbox/vm": ["errors", "policy", "network", "guest", "logs", "sandbox"],
  "sandbox/container": ["errors", "policy", "network", "guest", "logs", "sandbox"],
  engine: ["errors", "policy", "sandbox", "logs"],
  scheduler: ["errors", "policy", "sandbox", "engine", "logs", "metrics"],
  github: ["errors", "config", "logs"],
  cli: ["*"],
};

const files = sourceFiles(ROOT);
const imports = files.flatMap((file) =>
  [...readFileSync(file, "utf8").matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)].map((m) => ({
    file,
    target: path.resolve(path.dirname(file), m[1]!),
  })),
);

describe("architecture", () => {
  it("has an index.ts in every area", () => {
    const areas = new Set(files.map(areaOf));
    for (const area of areas) {
      expect(files, `runner/${area}/index.ts`).toContain(path.join(ROOT, area, "index.ts"));
    }
  });

  it("imports other areas only through their index.js", () => {
    const deep = imports.filter(
      ({ file, target }) =>
        areaOf(file) !== areaOf(`${target}.ts`) && path.basename(target) !== "index.js",
    );
    expect(
      deep.map((d) => `${path.relative(ROOT, d.file)} -> ${path.relative(ROOT, d.target)}`),
    ).toEqual([]);
  });

  it("points dependencies one way", () => {
    const wrong = imports.filter(({ file, target }) => {
      const from = areaOf(file);
      const to = areaOf(`${target}.ts`);
      if (from === to) return false;
      const allowed = ALLOWED[from];
      return !allowed || !(allowed.includes("*") || allowed.includes(to));
    });
    expect(
      wrong.map((d) => `${path.relative(ROOT, d.file)} -> ${path.relative(ROOT, d.target)}`),
    ).toEqual([]);
  });

  it("reads process.env only in cli/ and config/", () => {
    const readers = files.filter(
      (f) => /process\.env/.test(readFileSync(f, "utf8")) && !["cli", "config"].includes(areaOf(f)),
    );
    expect(readers.map((f) => path.relative(ROOT, f))).toEqual([]);
  });

  it("keeps source files under 400 lines (H3)", () => {
    const long = files.filter((f) => readFileSync(f, "utf8").split("\n").length > 400);
    expect(long.map((f) => path.relative(ROOT, f))).toEqual([]);
  });
});
