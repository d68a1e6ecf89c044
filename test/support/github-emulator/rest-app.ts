/**
 * GitHub App endpoints (App JWT): installation tokens, installation lookups, and the App
 * webhook's delivery log with redelivery.
 * https://docs.github.com/rest/apps/apps and https://docs.github.com/rest/apps/webhooks
 */
import type { EmulatorContext } from "./context.js";
import { githubError } from "./server.js";
import type { Reply, Route, RouteRequest } from "./server.js";
import type { DeliveryRecord } from "./webhooks.js";

const notFound = githubError(404, "Not Found");

export function appRoutes(ctx: EmulatorContext): Route[] {
  const { state, shapes, webhooks } = ctx;
  const app = ctx.options.app;

  const installationFor = (owner: string | undefined): Reply => {
    const repo = owner === undefined ? undefined : state.orgRepos(owner)[0];
    if (app === undefined || repo === undefined) return notFound;
    const account = { login: repo.owner, id: repo.ownerId, type: repo.ownerType };
    return { status: 200, body: shapes.installation(app.installationId, account) };
  };
  const deliveryOf = (r: RouteRequest): DeliveryRecord | undefined =>
    webhooks.list().find((d) => d.id === Number(r.params.delivery_id));

  return [
    {
      method: "POST",
      path: "/app/installations/{installation_id}/access_tokens",
      auth: "app",
      handler: (r) => {
        const id = Number(r.params.installation_id);
        if (app === undefined || id !== app.installationId) return notFound;
        const { token, expiresAt } = ctx.auth.issueInstallationToken(id);
        return { status: 201, body: shapes.installationToken(token, expiresAt) };
      },
    },
    {
      method: "GET",
      path: "/repos/{owner}/{repo}/installation",
      auth: "app",
      handler: (r) =>
        state.findRepo(r.params.owner!, r.params.repo!) === undefined
          ? notFound
          : installationFor(r.params.owner),
    },
    {
      method: "GET",
      path: "/orgs/{org}/installation",
      auth: "app",
      handler: (r) => installationFor(r.params.org),
    },
    {
      method: "GET",
      path: "/app/hook/deliveries",
      auth: "app",
      handler: (r) => {
        const perPage = Math.min(Math.max(Number(r.query.get("per_page") ?? 30) || 30, 1), 100);
        const cursor = r.query.get("cursor");
        const wanted = r.query.get("status");
        // Newest first; `status` classifies by code: success 200–399, failure 400–599.
        const all = webhooks
          .list()
          .filter((d) => cursor === null || d.id <= Number(cursor))
          .filter((d) =>
            wanted === "success"
              ? d.statusCode >= 200 && d.statusCode <= 399
              : wanted === "failure"
                ? d.statusCode >= 400 && d.statusCode <= 599
                : true,
          )
          .sort((a, b) => b.id - a.id);
        const page = all.slice(0, perPage);
        const next = all[perPage];
        const headers: Record<string, string> = {};
        if (next !== undefined) {
          const u = new URL(r.url);
          u.searchParams.set("per_page", String(perPage));
          u.searchParams.set("cursor", String(next.id));
          headers.link = `<${u.toString()}>; rel="next"`;
        }
        return { status: 200, headers, body: page.map(shapes.hookDeliveryItem) };
      },
    },
    {
      method: "GET",
      path: "/app/hook/deliveries/{delivery_id}",
      auth: "app",
      handler: (r) => {
        const delivery = deliveryOf(r);
        if (delivery === undefined) return notFound;
        return { status: 200, body: shapes.hookDelivery(delivery, ctx.options.webhook?.url ?? "") };
      },
    },
    {
      method: "POST",
      path: "/app/hook/deliveries/{delivery_id}/attempts",
      auth: "app",
      handler: (r) => {
        const delivery = deliveryOf(r);
        if (delivery === undefined) return notFound;
        // GitHub answers 202 at once and redelivers in the background.
        void webhooks.resend(delivery.id).catch(() => undefined);
        return { status: 202, body: {} };
      },
    },
  ];
}
