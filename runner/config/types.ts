import type { BACKENDS } from "./schema.js";

/** A position in the config file, 1-based as editors count. */
export interface ConfigPos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One problem in the config file, with its fix. */
export interface ConfigFinding extends ConfigPos {
  readonly message: string;
  readonly hint?: string;
}

/** In the shape `net.Server.listen()` takes: a TCP address, or a Unix socket path. */
export type Listen = { readonly host: string; readonly port: number } | { readonly path: string };

export type Backend = (typeof BACKENDS)[number];

/** How serve authenticates to GitHub. Only file paths: secrets are read by readSecretFile. */
export type GithubAuthConfig =
  | {
      readonly kind: "app";
      readonly appId: number;
      readonly privateKeyFile: string;
      readonly installationId?: number;
    }
  | { readonly kind: "token"; readonly tokenFile: string };

export type ScopeConfig =
  { readonly repositories: readonly string[] } | { readonly organization: string };

export interface LabelSetConfig {
  readonly name: string;
  /** As written; GitHub compares labels without regard to case. */
  readonly labels: readonly string[];
  /** Absolute path of the policy file. */
  readonly policy: string;
  readonly template: string;
  readonly backend: Backend;
  readonly repoPolicy: boolean;
  /** Where this label set starts in the config file. */
  readonly source: ConfigPos;
}

/** The loaded config: every path absolute, durations in ms, sizes in bytes, defaults filled. */
export interface ServiceConfig {
  /** Absolute path of the config file. */
  readonly file: string;
  readonly github: { readonly apiUrl: string; readonly auth: GithubAuthConfig };
  readonly scope: ScopeConfig;
  readonly runnerGroupId: number;
  readonly labelSets: readonly LabelSetConfig[];
  readonly ceilings?: string;
  readonly capacity: {
    readonly sandboxes: number;
    /** Undefined: not limited beyond `sandboxes`. */
    readonly cpus?: number;
    readonly memoryBytes?: number;
  };
  /** Undefined: no webhook intake; serve polls only. */
  readonly webhook?: {
    readonly listen: Listen;
    readonly path: string;
    readonly secretFile: string;
  };
  readonly reconcile: { readonly intervalMs: number };
  readonly idleTimeoutMs: number;
  readonly stateDir: string;
  readonly logs: { readonly dir: string; readonly retentionMs: number };
  /** Undefined: no /metrics and /healthz server. */
  readonly metrics?: { readonly listen: Listen };
  readonly hooksDir?: string;
  /** Undefined: the default socket of scripts/dockerd.sh. */
  readonly docker?: { readonly socket?: string };
  /** Undefined: the pinned release of vm-templates/actions-runner.yml. */
  readonly runner?: { readonly tarball?: string; readonly sha256?: string };
  /** Where each key was written, by dotted path (`labelSets[1].policy`), for later errors. */
  readonly origins: Readonly<Record<string, ConfigPos>>;
}

export interface LoadServiceConfigOptions {
  /** Text of a file, or undefined when it does not exist. Default: read from disk. */
  readonly readFile?: (file: string) => string | undefined;
  /**
   * The host's CPU count, for the default of capacity.sandboxes (one per two CPUs). The loader
   * does not look at the host itself; without this the default is 1.
   */
  readonly hostCpus?: number;
}
