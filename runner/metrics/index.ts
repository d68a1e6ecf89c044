/**
 * Metrics area: the service's Prometheus metrics on their own registry, and the small HTTP
 * server for /metrics and /healthz.
 */
export {
  createMetrics,
  metricsRecorder,
  KNOWN_LIMIT_KINDS,
  KNOWN_OUTCOMES,
  QUEUE_TO_START_BUCKETS,
} from "./metrics.js";
export type { Metrics, MetricsOptions, MetricsRecorder } from "./metrics.js";
export { startMetricsServer } from "./server.js";
export type { HealthStatus, MetricsServer, MetricsServerOptions } from "./server.js";
export { formatListen, parseListen } from "./listen.js";
export type { ListenAddress } from "./listen.js";
