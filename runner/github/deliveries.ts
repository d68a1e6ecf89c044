/**
 * Redelivery of failed webhook deliveries, as an App. GitHub does not redeliver on its own
 * (docs: handling-failed-webhook-deliveries), and Ubicloud, cdk-github-runners and RunsOn all ship
 * this loop because deliveries get lost. The reconcile loop also finds the jobs; this brings back
 * the delivery ids and the sooner start.
 */
import { apiError } from "./errors.js";
import type { ClientState } from "./auth.js";
import type { ReplySource } from "./reply-fields.js";
import { int, malformed, nullableStr, object, str } from "./reply-fields.js";
import { FIELD } from "../logs/index.js";

export interface Delivery {
  readonly id: number;
  readonly guid: string;
  readonly deliveredAtMs: number;
  readonly statusCode: number;
  readonly event: string;
}

const SOURCE: ReplySource = { kind: "rest", what: "GET /app/hook/deliveries" };

export function deliveryFromRest(raw: unknown, index: number): Delivery {
  const path = `deliveries[${index}]`;
  const json = object(SOURCE, raw, path);
  const deliveredAt = str(SOURCE, json, "delivered_at", path);
  const deliveredAtMs = Date.parse(deliveredAt);
  if (Number.isNaN(deliveredAtMs)) {
    throw malformed(SOURCE, `${path}.delivered_at`, "a date", deliveredAt);
  }
  return {
    id: int(SOURCE, json, "id", path),
    guid: str(SOURCE, json, "guid", path),
    deliveredAtMs,
    statusCode: int(SOURCE, json, "status_code", path),
    event: nullableStr(SOURCE, json, "event", path) ?? "",
  };
}

const succeeded = (delivery: Delivery): boolean =>
  delivery.statusCode >= 200 && delivery.statusCode < 300;

/**
 * The deliveries to redeliver (pure): per workflow_job delivery GUID made at or after `sinceMs`,
 * the newest attempt, unless some attempt of that GUID succeeded (a redelivery keeps the GUID).
 */
export function pickRedeliveries(deliveries: readonly Delivery[], sinceMs: number): number[] {
  const byGuid = new Map<string, Delivery[]>();
  for (const delivery of deliveries) {
    if (delivery.event !== "workflow_job" || delivery.deliveredAtMs < sinceMs) continue;
    byGuid.set(delivery.guid, [...(byGuid.get(delivery.guid) ?? []), delivery]);
  }
  const picked: number[] = [];
  for (const attempts of byGuid.values()) {
    if (attempts.some(succeeded)) continue;
    const newest = attempts.reduce((a, b) => (b.deliveredAtMs > a.deliveredAtMs ? b : a));
    picked.push(newest.id);
  }
  return picked;
}

export async function redeliverFailed(state: ClientState, sinceMs: number): Promise<number> {
  const app = state.auth.app;
  if (!app) return 0;
  let deliveries: Delivery[];
  try {
    // Newest first: stop paging at the first page that reaches back before `sinceMs`.
    const raw = await app.paginate(
      "GET /app/hook/deliveries",
      { per_page: 100 },
      (response, done) => {
        const page = response.data as unknown[];
        const last = page.at(-1) as { delivered_at?: unknown } | undefined;
        if (typeof last?.delivered_at === "string" && Date.parse(last.delivered_at) < sinceMs)
          done();
        return page;
      },
    );
    deliveries = raw.map((item, i) => deliveryFromRest(item, i));
  } catch (error) {
    throw apiError(error, state.retries);
  }
  let asked = 0;
  for (const id of pickRedeliveries(deliveries, sinceMs)) {
    try {
      await app.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: id });
      asked += 1;
    } catch (error) {
      // One refused redelivery (too old, already retried) must not stop the others.
      state.log.warn(
        { deliveryHookId: id, [FIELD.err]: apiError(error, state.retries) },
        "redelivery failed",
      );
    }
  }
  if (asked > 0)
    state.log.info({ count: asked }, "asked GitHub to redeliver failed workflow_job deliveries");
  return asked;
}
