/**
 * Matrix expansion (research G2), from
 * https://docs.github.com/en/actions/how-tos/write-workflows/choose-what-workflows-do/run-job-variations
 *
 * Evaluation order, as documented:
 *   1. the cartesian product of the vectors, first key outermost;
 *   2. `exclude` removes every combination an entry matches partially (its keys only);
 *   3. `include` ("processed after exclude"): each entry is added to every original combination
 *      where none of its values overwrites an original matrix value (values added by an earlier
 *      include may be overwritten); an entry added to no combination becomes a new combination.
 *   4. at most 256 combinations.
 * Matrix keys compare case-insensitively (the matrix context is case-insensitive); values compare
 * by deep equality.
 */
import { SandboxedError } from "../errors/index.js";
import type { SourceRef } from "../errors/index.js";

export type Combination = Readonly<Record<string, unknown>>;

export interface MatrixExpansion {
  /** `[{}]` for a job without a matrix: one job, empty matrix context. */
  readonly combinations: readonly Combination[];
  readonly failFast: boolean;
  readonly maxParallel: number | undefined;
}

export interface ExpandOptions {
  /** `--matrix key=value`: keep combinations whose `key` has that value (keys they lack pass). */
  readonly filter?: Readonly<Record<string, string>>;
  /** Where the strategy is written, for error positions. */
  readonly source?: SourceRef;
}

/** "A matrix will generate a maximum of 256 jobs per workflow run." */
export const MAX_COMBINATIONS = 256;

type Row = Record<string, unknown>;

export function expandMatrix(strategy: unknown, options: ExpandOptions = {}): MatrixExpansion {
  const fail = (message: string, hint: string): never => {
    throw new SandboxedError("SBX_ENGINE_MATRIX", message, {
      hint,
      ...(options.source ? { source: options.source } : {}),
    });
  };
  if (strategy === undefined || strategy === null) {
    return { combinations: [{}], failFast: true, maxParallel: undefined };
  }
  if (!isRecord(strategy)) return fail("strategy must be a mapping", "strategy: { matrix: … }");
  const failFast = strategy["fail-fast"] ?? true;
  if (typeof failFast !== "boolean") {
    fail(`strategy.fail-fast must be true or false, not ${show(failFast)}`, "fail-fast: false");
  }
  const maxParallel = strategy["max-parallel"];
  if (maxParallel !== undefined && !(typeof maxParallel === "number" && maxParallel >= 1)) {
    fail(
      `strategy.max-parallel must be a positive number, not ${show(maxParallel)}`,
      "max-parallel: 2",
    );
  }
  const matrix = strategy.matrix;
  let combinations: Row[] = [{}];
  if (matrix !== undefined) {
    if (!isRecord(matrix))
      return fail("strategy.matrix must be a mapping", "matrix: { os: [linux] }");
    combinations = combine(matrix, fail);
  }
  if (options.filter !== undefined) combinations = applyFilter(combinations, options.filter, fail);
  return {
    combinations,
    failFast: failFast as boolean,
    maxParallel: maxParallel as number | undefined,
  };
}

type Fail = (message: string, hint: string) => never;

function combine(matrix: Row, fail: Fail): Row[] {
  const vectors: [string, unknown[]][] = [];
  let include: Row[] = [];
  let exclude: Row[] = [];
  for (const [key, value] of Object.entries(matrix)) {
    const lower = key.toLowerCase();
    if (lower === "include" || lower === "exclude") {
      const rows = filterRows(key, value, fail);
      if (lower === "include") include = rows;
      else exclude = rows;
    } else if (!Array.isArray(value)) {
      fail(
        `matrix vector '${key}' must be a sequence, not ${show(value)}`,
        `${key}: [${show(value)}]`,
      );
    } else if (value.length === 0) {
      fail(
        `matrix vector '${key}' has no values`,
        `give '${key}' at least one value, or remove it`,
      );
    } else {
      vectors.push([key, value]);
    }
  }
  const keyOf = new Map(vectors.map(([k]) => [k.toLowerCase(), k]));
  for (const entry of exclude) {
    for (const k of Object.keys(entry)) {
      if (!keyOf.has(k.toLowerCase())) {
        fail(
          `matrix exclude key '${k}' matches no matrix vector`,
          `exclude may name only: ${[...keyOf.values()].join(", ") || "(no vectors)"}`,
        );
      }
    }
  }
  // Exclude may bring a large product under the cap, but do not build millions of rows to see.
  const product = vectors.reduce((n, [, values]) => n * values.length, 1);
  if (product > MAX_COMBINATIONS * MAX_COMBINATIONS) {
    fail(
      `the matrix vectors make ${product} combinations; GitHub allows at most ${MAX_COMBINATIONS}`,
      "split the job, or use fewer values",
    );
  }
  let rows: Row[] = vectors.length === 0 ? [] : [{}];
  for (const [key, values] of vectors) {
    rows = rows.flatMap((row) => values.map((v) => ({ ...row, [key]: v })));
  }
  rows = rows.filter((row) => !exclude.some((entry) => matches(row, entry, keyOf)));
  const original = rows.map((row) => ({ ...row }));
  const added: Row[] = [];
  for (const entry of include) {
    let used = false;
    for (const [i, row] of rows.entries()) {
      const fits = Object.entries(entry).every(([k, v]) => {
        const key = keyOf.get(k.toLowerCase());
        return key === undefined || deepEqual(original[i]![key], v);
      });
      if (!fits) continue;
      used = true;
      for (const [k, v] of Object.entries(entry)) setKey(row, existingKey(row, k), v);
    }
    if (!used) added.push({ ...entry });
  }
  const all = [...rows, ...added];
  if (all.length === 0) {
    fail(
      "the matrix has no combinations",
      "define at least one vector or include entry, and exclude fewer combinations",
    );
  }
  if (all.length > MAX_COMBINATIONS) {
    fail(
      `the matrix has ${all.length} combinations; GitHub allows at most ${MAX_COMBINATIONS}`,
      "split the job, or exclude combinations",
    );
  }
  return all;
}

function filterRows(key: string, value: unknown, fail: Fail): Row[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isRecord)) {
    return fail(`matrix ${key} must be a sequence of mappings`, `${key}:\n  - { os: linux }`);
  }
  return value;
}

function applyFilter(rows: Row[], filter: Readonly<Record<string, string>>, fail: Fail): Row[] {
  const kept = rows.filter((row) =>
    Object.entries(filter).every(([k, want]) => {
      const key = Object.keys(row).find((r) => r.toLowerCase() === k.toLowerCase());
      return key === undefined || coerce(row[key]) === want;
    }),
  );
  if (kept.length === 0) {
    const wanted = Object.entries(filter).map(([k, v]) => `${k}=${v}`);
    fail(
      `no matrix combination matches ${wanted.join(", ")}`,
      `combinations: ${rows.map((r) => matrixJobName("", r).trim()).join(" ")}`,
    );
  }
  return kept;
}

/** The `strategy` context of combination `index`: fail-fast, job-index, job-total, max-parallel. */
export function strategyContext(
  expansion: MatrixExpansion,
  index: number,
): Record<string, unknown> {
  const total = expansion.combinations.length;
  return {
    "fail-fast": expansion.failFast,
    "job-index": index,
    "job-total": total,
    "max-parallel": expansion.maxParallel ?? total,
  };
}

/**
 * GitHub's display name of a matrix job: `build (18, ubuntu)`, values in combination order; the
 * bare name for an empty combination. Mappings and sequences show as compact JSON.
 */
export function matrixJobName(jobName: string, combination: Combination): string {
  const values = Object.values(combination);
  if (values.length === 0) return jobName;
  return `${jobName} (${values.map(coerce).join(", ")})`;
}

function matches(row: Row, entry: Row, keyOf: ReadonlyMap<string, string>): boolean {
  return Object.entries(entry).every(([k, v]) =>
    deepEqual(row[keyOf.get(k.toLowerCase()) ?? k], v),
  );
}

function existingKey(row: Row, key: string): string {
  return Object.keys(row).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
}

/** Own property even for `__proto__`: matrix keys come from workflow files. */
function setKey(row: Row, key: string, value: unknown): void {
  Object.defineProperty(row, key, { value, enumerable: true, writable: true, configurable: true });
}

function coerce(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function isRecord(value: unknown): value is Row {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
