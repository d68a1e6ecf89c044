/**
 * The stand-in runner's side: the JIT blob the emulator issues, and the small private protocol
 * the stand-in (test/support/runner-standin) speaks in place of the official runner's broker.
 * Not GitHub's API (and not checked against its description).
 *
 * The blob has the official format: base64(JSON{".runner", ".credentials",
 * ".credentials_rsaparams"}), each value base64(JSON) of the file the official runner writes:
 *   .runner       {agentId, agentName, poolId, poolName, serverUrl, gitHubUrl, workFolder, ephemeral}
 *   .credentials  {scheme: "OAuth", data: {clientId, authorizationUrl, requireFipsCryptography, token}}
 *   .credentials_rsaparams  {d, dp, dq, exponent, inverseQ, modulus, p, q}  (standard base64)
 * `serverUrl` is the emulator's publicUrl; `data.token` (a stand-in addition: the official runner
 * trades its RSA key for an OAuth token instead) is the credential the protocol checks.
 *
 *   POST /_runner/acquire        {agentId, credentials}  → 200 {job} | 204 none yet
 *                                                         | 401 bad credentials | 410 {reason}
 *   POST /_runner/jobs/{id}/log       text, Authorization: Bearer <token> → 200 | 401 | 410
 *   POST /_runner/jobs/{id}/complete  {conclusion},     Bearer <token> → 200 | 401 | 410
 * 410 reasons: "deleted" (runner deleted), "cancelled" (its job was cancelled), "finished".
 */
import { generateKeyPair, randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Reply, RunnerHandler } from "./server.js";
import type { Acquired, RunnerRecord, State } from "./state.js";

const CONCLUSIONS = new Set(["success", "failure", "cancelled"]);

// One RSA key per process, reused by every blob: generating a 2048-bit key costs ~0.4 s of CPU,
// and nothing in the stand-in protocol uses it; it is there so the blob has the real shape.
let rsaParams: Promise<Record<string, string>> | undefined;

function runnerRsaParams(): Promise<Record<string, string>> {
  rsaParams ??= new Promise((resolve, reject) => {
    generateKeyPair("rsa", { modulusLength: 2048 }, (error, _publicKey, privateKey) => {
      if (error !== null) return reject(error);
      const jwk = privateKey.export({ format: "jwk" });
      const b64 = (v: string | undefined) => Buffer.from(v ?? "", "base64url").toString("base64");
      resolve({
        d: b64(jwk.d),
        dp: b64(jwk.dp),
        dq: b64(jwk.dq),
        exponent: b64(jwk.e),
        inverseQ: b64(jwk.qi),
        modulus: b64(jwk.n),
        p: b64(jwk.p),
        q: b64(jwk.q),
      });
    });
  });
  return rsaParams;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64");

export async function encodeJitConfig(
  runner: RunnerRecord,
  urls: { server: string; html: string },
): Promise<string> {
  const target = "repo" in runner.target ? runner.target.repo : runner.target.org;
  const clientId = randomUUID();
  return encode({
    ".runner": encode({
      agentId: runner.id,
      agentName: runner.name,
      poolId: runner.groupId,
      poolName: "Default",
      serverUrl: urls.server,
      gitHubUrl: `${urls.html}/${target}`,
      workFolder: runner.workFolder,
      ephemeral: true,
    }),
    ".credentials": encode({
      scheme: "OAuth",
      data: {
        clientId,
        authorizationUrl: `${urls.server}/_apis/oauth2/token/${clientId}`,
        requireFipsCryptography: "False",
        token: runner.token,
      },
    }),
    ".credentials_rsaparams": encode(await runnerRsaParams()),
  });
}

export function createRunnerProtocol(state: State): RunnerHandler {
  const json = (status: number, body?: unknown): Reply => ({ status, body });
  const refused = (acquired: Exclude<Acquired, { kind: "job" } | { kind: "none" }>): Reply =>
    acquired.kind === "unauthorized"
      ? json(401, { message: "Bad credentials" })
      : json(410, { message: `runner ${acquired.reason}`, reason: acquired.reason });
  const bearer = (headers: IncomingHttpHeaders) =>
    /^Bearer (\S+)$/i.exec(headers.authorization ?? "")?.[1] ?? "";

  return (method, pathname, headers, body) => {
    if (method !== "POST") return json(405, { message: "POST only" });
    if (pathname === "/_runner/acquire") {
      let request: { agentId?: unknown; credentials?: { data?: { token?: unknown } } };
      try {
        request = JSON.parse(body) as typeof request;
      } catch {
        return json(400, { message: "body must be JSON {agentId, credentials}" });
      }
      const token = request.credentials?.data?.token;
      if (typeof request.agentId !== "number" || typeof token !== "string") {
        return json(401, { message: "Bad credentials" });
      }
      const acquired = state.acquire(request.agentId, token);
      if (acquired.kind === "none") return json(204);
      if (acquired.kind !== "job") return refused(acquired);
      const { job } = acquired;
      return json(200, {
        job: {
          id: job.id,
          name: job.name,
          runId: job.run.id,
          repo: job.run.repo.fullName,
          workflowName: job.run.workflowName,
          headSha: job.run.headSha,
          labels: job.labels,
          script: job.script,
        },
      });
    }
    const m = /^\/_runner\/jobs\/(\d+)\/(log|complete)$/.exec(pathname);
    if (m === null) return json(404, { message: "Not Found" });
    const held = state.holder(bearer(headers), Number(m[1]));
    if (held.kind !== "job")
      return refused(held as Exclude<Acquired, { kind: "job" } | { kind: "none" }>);
    if (m[2] === "log") {
      held.job.log += body;
      state.changed();
      return json(200, {});
    }
    let conclusion: unknown;
    try {
      conclusion = (JSON.parse(body) as { conclusion?: unknown }).conclusion;
    } catch {
      conclusion = undefined;
    }
    if (typeof conclusion !== "string" || !CONCLUSIONS.has(conclusion)) {
      return json(400, { message: `conclusion must be one of ${[...CONCLUSIONS].join(", ")}` });
    }
    state.complete(held.job, conclusion);
    return json(200, {});
  };
}
