/**
 * Config area: the service config `sandboxed.yml` for `sandboxed serve` (docs/configuration.md),
 * loaded into a deeply readonly ServiceConfig, and the reader for the secret files it names.
 */
export { DEFAULTS, loadServiceConfig, parseServiceConfig } from "./load.js";
export { createSecret, readSecretFile, MAX_SECRET_BYTES } from "./secret.js";
export type { Secret } from "./secret.js";
export { ServiceConfigError, MAX_LISTED_FINDINGS } from "./errors.js";
export { API_VERSION, CONFIG_KIND, serviceConfigSchema } from "./schema.js";
export type { ServiceConfigInput } from "./schema.js";
export { MIN_RECONCILE_MS } from "./checks.js";
export { formatConfigDuration, parseConfigDuration, parseListen } from "./values.js";
export type {
  Backend,
  ConfigFinding,
  ConfigPos,
  GithubAuthConfig,
  LabelSetConfig,
  Listen,
  LoadServiceConfigOptions,
  ScopeConfig,
  ServiceConfig,
} from "./types.js";
