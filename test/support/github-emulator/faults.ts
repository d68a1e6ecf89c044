/**
 * Injected failures: the next `times` REST requests matching a rule get the reply GitHub gives
 * when it is down or throttling, headers and body as GitHub sends them, so Octokit's retry and
 * throttling plugins recognise them as they would in production:
 *
 * - 500/502/503: `{"message":"Server Error"}`-style bodies.
 * - "rate-limit" (primary): 403, `x-ratelimit-remaining: 0`, `x-ratelimit-reset` (epoch s),
 *   "API rate limit exceeded for …". https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
 * - "secondary-rate-limit": 403, `retry-after: 1`, "You have exceeded a secondary rate limit…".
 */
import type { FaultReply, FaultRule } from "./types.js";

export interface FaultResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

export interface Faults {
  add(rule: FaultRule): void;
  clear(): void;
  /** The reply for this request if a rule matches (and uses up one of its `times`). */
  take(method: string, pathname: string): FaultReply | undefined;
}

export function createFaults(): Faults {
  const rules: { rule: FaultRule; left: number }[] = [];
  return {
    add: (rule) => {
      if (!Number.isInteger(rule.times) || rule.times < 1) throw new Error("faults.add: times ≥ 1");
      rules.push({ rule, left: rule.times });
    },
    clear: () => void rules.splice(0),
    take: (method, pathname) => {
      const hit = rules.find(
        ({ rule, left }) =>
          left > 0 &&
          (rule.method === undefined || rule.method.toUpperCase() === method.toUpperCase()) &&
          (typeof rule.path === "string" ? rule.path === pathname : rule.path.test(pathname)),
      );
      if (hit === undefined) return undefined;
      hit.left -= 1;
      return hit.rule.reply;
    },
  };
}

const RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";

export function faultResponse(
  reply: FaultReply,
  context: { nowMs: number; resetSeconds: number; requestId: string; who: string },
): FaultResponse {
  const support = `If you reach out to GitHub Support for help, please include the request ID ${context.requestId}.`;
  switch (reply) {
    case 500:
    case 502:
      return { status: reply, headers: {}, body: { message: "Server Error" } };
    case 503:
      return { status: 503, headers: {}, body: { message: "Service Unavailable" } };
    case "rate-limit": {
      const reset = Math.ceil(context.nowMs / 1000) + context.resetSeconds;
      return {
        status: 403,
        headers: {
          "x-ratelimit-limit": "5000",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-used": "5000",
          "x-ratelimit-reset": String(reset),
          "x-ratelimit-resource": "core",
        },
        body: {
          message: `API rate limit exceeded for ${context.who}. ${support}`,
          documentation_url: RATE_DOCS,
          status: "403",
        },
      };
    }
    case "secondary-rate-limit":
      return {
        status: 403,
        headers: { "retry-after": "1" },
        body: {
          message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ${support}`,
          documentation_url: `${RATE_DOCS}#about-secondary-rate-limits`,
          status: "403",
        },
      };
    default: {
      const never: never = reply;
      throw new Error(`unknown fault reply ${String(never)}`);
    }
  }
}
