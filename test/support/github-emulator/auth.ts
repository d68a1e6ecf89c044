/**
 * Who is calling: a personal access token, an installation token the emulator issued, or a
 * GitHub App's JWT (RS256, checked against the App's public key when one is given, with the
 * claim rules GitHub applies: `iss` = App id, `exp` in the future and at most 10 minutes away).
 * https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 */
import { createPublicKey, randomBytes, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";

export type Auth =
  | { kind: "none" }
  | { kind: "bad"; message: string }
  | { kind: "token" }
  | { kind: "installation"; installationId: number }
  | { kind: "app"; appId: number };

export interface Authenticator {
  identify(authorization: string | undefined): Auth;
  /** A fresh `ghs_…` installation token, valid for an hour as GitHub's are. */
  issueInstallationToken(installationId: number): { token: string; expiresAt: number };
}

export function createAuthenticator(options: {
  token?: string;
  app?: { appId: number; installationId: number; publicKeyPem?: string };
  now: () => number;
}): Authenticator {
  const { app, now } = options;
  const publicKey: KeyObject | undefined =
    app?.publicKeyPem === undefined ? undefined : createPublicKey(app.publicKeyPem);
  const installationTokens = new Map<string, { installationId: number; expiresAt: number }>();

  const checkJwt = (jwt: string): Auth => {
    const bad = (message: string): Auth => ({ kind: "bad", message });
    if (app === undefined) return bad("A JSON web token could not be decoded");
    const [head, body, signature] = jwt.split(".");
    let header: { alg?: string };
    let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
    try {
      header = JSON.parse(Buffer.from(head!, "base64url").toString()) as typeof header;
      claims = JSON.parse(Buffer.from(body!, "base64url").toString()) as typeof claims;
    } catch {
      return bad("A JSON web token could not be decoded");
    }
    if (header.alg !== "RS256") return bad("A JSON web token could not be decoded");
    if (publicKey !== undefined) {
      const signed = Buffer.from(`${head}.${body}`);
      if (!verify("sha256", signed, publicKey, Buffer.from(signature!, "base64url"))) {
        return bad("A JSON web token could not be decoded");
      }
    }
    const nowS = Math.floor(now() / 1000);
    if (typeof claims.iat !== "number") {
      return bad(
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
      );
    }
    if (claims.iat > nowS + 60) {
      return bad("'Issued at' claim ('iat') must be an Integer representing a time in the past");
    }
    if (typeof claims.exp !== "number" || claims.exp <= nowS) {
      return bad(
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      );
    }
    if (claims.exp - nowS > 600 + 60)
      return bad("'Expiration time' claim ('exp') is too far in the future");
    if (String(claims.iss) !== String(app.appId)) return bad("Integration not found");
    return { kind: "app", appId: app.appId };
  };

  return {
    identify: (authorization) => {
      if (authorization === undefined || authorization.trim() === "") return { kind: "none" };
      const match = /^(token|bearer)\s+(\S+)$/i.exec(authorization.trim());
      if (match === null) return { kind: "bad", message: "Bad credentials" };
      const credential = match[2]!;
      if (/^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(credential)) return checkJwt(credential);
      const installation = installationTokens.get(credential);
      if (installation !== undefined && installation.expiresAt > now()) {
        return { kind: "installation", installationId: installation.installationId };
      }
      if (options.token !== undefined && credential === options.token) return { kind: "token" };
      // Neither a token nor an App configured: any token will do (a bare emulator).
      if (options.token === undefined && app === undefined) return { kind: "token" };
      return { kind: "bad", message: "Bad credentials" };
    },

    issueInstallationToken: (installationId) => {
      const token = `ghs_${randomBytes(27).toString("base64url").replace(/[-_]/g, "x").slice(0, 36)}`;
      const expiresAt = now() + 3600_000;
      installationTokens.set(token, { installationId, expiresAt });
      return { token, expiresAt };
    },
  };
}
