import type { NETWORK_MODES, BACKENDS, RUNTIMES } from "./schema.js";

export type Severity = "error" | "warning";

/** Every rule the linter knows. Closed union: docs/policy.md has one row per id. */
export type RuleId =
  | "yaml-syntax"
  | "duplicate-key"
  | "schema"
  | "unknown-key"
  | "invalid-unit"
  | "out-of-range"
  | "invalid-host"
  | "invalid-cidr"
  | "allow-everything"
  | "ip-literal-host"
  | "private-cidr"
  | "metadata-cidr"
  | "loopback-cidr"
  | "broad-cidr"
  | "exceeds-ceiling"
  | "duplicate-entry"
  | "shadowed-entry"
  | "unhardened-runtime"
  | "audit-in-enforced"
  | "unused-allow"
  | "unreachable-extends"
  | "extends-cycle";

/** A position in a file, 1-based, as editors and GitHub annotations count. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

export interface Finding extends SourcePos {
  readonly severity: Severity;
  readonly rule: RuleId;
  readonly message: string;
  readonly hint?: string;
}

export type NetworkMode = (typeof NETWORK_MODES)[number];
export type Backend = (typeof BACKENDS)[number];
export type Runtime = (typeof RUNTIMES)[number];

/** One allow rule after normalisation, with where it was written. */
export type AllowRule =
  | {
      readonly kind: "host";
      /** Lowercase ASCII name; for a wildcard, the part after `*.`. */
      readonly host: string;
      readonly wildcard: boolean;
      readonly ports: readonly number[];
      readonly source: SourcePos;
    }
  | {
      readonly kind: "cidr";
      readonly cidr: string;
      readonly ports: readonly number[];
      readonly source: SourcePos;
    };

/** The fully resolved policy every sandbox obeys. Numbers are in base units. */
export interface ResolvedPolicy {
  readonly apiVersion: "sandboxed/v1";
  readonly kind: "Policy";
  /** Files merged, in order: extended files first, the entry file last. */
  readonly files: readonly string[];
  readonly enforce: boolean;
  readonly isolation: {
    readonly backend: Backend;
    readonly runtime: Runtime;
    readonly sudo: boolean;
  };
  readonly resources: {
    readonly cpus: number;
    readonly memoryBytes: number;
    readonly diskBytes: number;
    readonly pids: number;
    readonly timeoutSeconds: number;
  };
  readonly network: {
    readonly mode: NetworkMode;
    readonly bandwidth: { readonly egressBps: number; readonly ingressBps: number };
    readonly allow: readonly AllowRule[];
  };
  /** Where each scalar came from, keyed by dotted path (`resources.memory`). */
  readonly origins: Readonly<Record<string, SourcePos>>;
}

/** Ceilings: the same fields, each optional; an unset field sets no bound. */
export interface ResolvedCeilings {
  readonly kind: "Ceilings";
  readonly files: readonly string[];
  readonly isolation: {
    readonly backend?: Backend;
    readonly runtime?: Runtime;
    readonly sudo?: boolean;
  };
  readonly resources: {
    readonly cpus?: number;
    readonly memoryBytes?: number;
    readonly diskBytes?: number;
    readonly pids?: number;
    readonly timeoutSeconds?: number;
  };
  readonly network: {
    readonly mode?: NetworkMode;
    readonly bandwidth: { readonly egressBps?: number; readonly ingressBps?: number };
    /** Undefined: any destination; a list: policies may only allow what it covers. */
    readonly allow?: readonly AllowRule[];
  };
  readonly origins: Readonly<Record<string, SourcePos>>;
}
