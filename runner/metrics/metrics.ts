/**
 * The service's Prometheus metrics (issue 6, "Operating it"), on a registry of their own: never
 * prom-client's global default registry, which a library could also write to, and which would make
 * two services (or two tests) in one process collide on metric names.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Queue-to-start buckets, in seconds: a warm KVM host starts a job in seconds, a TCG host or a
 * full one in minutes; GitHub gives up on a queued job after 24 h, but past 30 min the exact
 * number no longer matters (the +Inf bucket holds the rest).
 */
export const QUEUE_TO_START_BUCKETS: readonly number[] = [
  1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1200, 1800,
];

/**
 * Outcomes counted from zero so `rate()` sees them before their first job. They match the
 * scheduler's JobOutcome; another value still counts, it just appears at its first use.
 */
export const KNOWN_OUTCOMES: readonly string[] = [
  "success",
  "failure",
  "cancelled",
  "limit",
  "infrastructure",
  "idle",
  "refused",
];

/** Limit breach kinds counted from zero (the sandbox's BreachKind). */
export const KNOWN_LIMIT_KINDS: readonly string[] = ["memory", "disk", "timeout", "pids"];

export interface Metrics {
  readonly registry: Registry;
  /** sandboxed_jobs_total{outcome} */
  readonly jobs: Counter<"outcome">;
  /** sandboxed_queue_to_start_seconds: from GitHub queuing the job to its sandbox starting. */
  readonly queueToStart: Histogram;
  /** sandboxed_sandboxes_live */
  readonly sandboxesLive: Gauge;
  /** sandboxed_egress_denials_total */
  readonly egressDenials: Counter;
  /** sandboxed_limit_breaches_total{kind} */
  readonly limitBreaches: Counter<"kind">;
  /** sandboxed_github_api_errors_total{status}; status "network" when no reply came. */
  readonly githubApiErrors: Counter<"status">;
}

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop, handles) on the same registry. Default true. */
  readonly processMetrics?: boolean;
  readonly outcomes?: readonly string[];
  readonly limitKinds?: readonly string[];
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const jobs = new Counter({
    name: "sandboxed_jobs_total",
    help: "Jobs finished, by outcome.",
    labelNames: ["outcome"] as const,
    registers,
  });
  const queueToStart = new Histogram({
    name: "sandboxed_queue_to_start_seconds",
    help: "Seconds from a job being queued on GitHub to its sandbox starting.",
    buckets: [...QUEUE_TO_START_BUCKETS],
    registers,
  });
  const sandboxesLive = new Gauge({
    name: "sandboxed_sandboxes_live",
    help: "Sandboxes that exist now (booting, running or being destroyed).",
    registers,
  });
  const egressDenials = new Counter({
    name: "sandboxed_egress_denials_total",
    help: "Connections and DNS queries the egress policy denied.",
    registers,
  });
  const limitBreaches = new Counter({
    name: "sandboxed_limit_breaches_total",
    help: "Jobs stopped by a resource limit, by kind.",
    labelNames: ["kind"] as const,
    registers,
  });
  const githubApiErrors = new Counter({
    name: "sandboxed_github_api_errors_total",
    help: "GitHub API requests that failed, by HTTP status (network when none came).",
    labelNames: ["status"] as const,
    registers,
  });
  for (const outcome of options.outcomes ?? KNOWN_OUTCOMES) jobs.inc({ outcome }, 0);
  for (const kind of options.limitKinds ?? KNOWN_LIMIT_KINDS) limitBreaches.inc({ kind }, 0);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    jobs,
    queueToStart,
    sandboxesLive,
    egressDenials,
    limitBreaches,
    githubApiErrors,
  };
}

/**
 * The metrics as calls, in the shape the scheduler asks for (its SchedulerMetrics), plus the
 * GitHub client's error count.
 */
export interface MetricsRecorder {
  jobFinished(outcome: string): void;
  queueToStart(seconds: number): void;
  sandboxesLive(n: number): void;
  egressDenied(n: number): void;
  limitBreached(kind: string): void;
  githubApiError(status: number | "network"): void;
}

export function metricsRecorder(metrics: Metrics): MetricsRecorder {
  return {
    jobFinished: (outcome) => metrics.jobs.inc({ outcome }),
    // A clock step can make the difference negative; such a sample is meaningless, not zero.
    queueToStart: (seconds) => {
      if (Number.isFinite(seconds) && seconds >= 0) metrics.queueToStart.observe(seconds);
    },
    sandboxesLive: (n) => metrics.sandboxesLive.set(n),
    egressDenied: (n) => {
      if (n > 0) metrics.egressDenials.inc(n);
    },
    limitBreached: (kind) => metrics.limitBreaches.inc({ kind }),
    githubApiError: (status) => metrics.githubApiErrors.inc({ status: String(status) }),
  };
}
