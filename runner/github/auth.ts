/**
 * Which Octokit speaks for a target. With a token: one for everything. As an App: the App's own
 * (JWT) for /app endpoints and installation lookups, and one per installation, whose
 * @octokit/auth-app instance caches the installation token until shortly before it expires
 * (terraform-aws-github-runner #5132: uncached tokens exhaust the rate limit). Installation ids
 * are looked up once per repository or organization and cached.
 */
import { createAppAuth } from "@octokit/auth-app";
import { SandboxedError } from "../errors/index.js";
import { apiError, AUTH, hasStatus, notInstalled } from "./errors.js";
import type { GithubOctokit, OctokitAuth } from "./octokit.js";
import { describeTarget, splitRepo } from "./repo-name.js";
import { int, object } from "./reply-fields.js";
import { revealed } from "./secret.js";
import type { GithubAuth, GithubLog, Target } from "./types.js";

export interface Speaker {
  readonly octokit: GithubOctokit;
  /** Set when speaking as an App installation. */
  readonly installationId?: number;
}

export interface AuthState {
  readonly isApp: boolean;
  /** The App's JWT Octokit; undefined with a token. */
  readonly app: GithubOctokit | undefined;
  speakerFor(target: Target): Promise<Speaker>;
}

/** What every operation of the client gets first (STYLE H4: state first). */
export interface ClientState {
  readonly auth: AuthState;
  readonly log: GithubLog;
  readonly retries: number;
}

function checkAuth(auth: GithubAuth): void {
  if (auth.kind === "token") {
    if (revealed(auth.token).trim() === "") {
      throw new SandboxedError(AUTH, "The GitHub token is empty", {
        hint: "Put a token in github.token's file: fine-grained, with Actions read, Administration write, Commit statuses write and Contents read.",
      });
    }
    return;
  }
  if (!Number.isSafeInteger(auth.appId) || auth.appId <= 0) {
    throw new SandboxedError(
      AUTH,
      `GitHub App id ${String(auth.appId)} is not a positive integer`,
      {
        hint: "Use the App ID shown on the App's settings page (github.app.id).",
      },
    );
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(revealed(auth.privateKey))) {
    throw new SandboxedError(AUTH, "The GitHub App private key is not a PEM private key", {
      hint: "Point github.app.privateKeyFile at the .pem file downloaded from the App's settings page.",
    });
  }
}

export function createAuthState(
  auth: GithubAuth,
  makeOctokit: (auth: OctokitAuth) => GithubOctokit,
  retries: number,
): AuthState {
  checkAuth(auth);
  if (auth.kind === "token") {
    const octokit = makeOctokit({ auth: revealed(auth.token) });
    return { isApp: false, app: undefined, speakerFor: async () => ({ octokit }) };
  }
  const appAuth = { appId: auth.appId, privateKey: revealed(auth.privateKey) };
  const app = makeOctokit({ authStrategy: createAppAuth, auth: appAuth });
  const byInstallation = new Map<number, GithubOctokit>();
  const installationOf = new Map<string, Promise<number>>();

  const installationOctokit = (installationId: number): GithubOctokit => {
    let octokit = byInstallation.get(installationId);
    if (!octokit) {
      octokit = makeOctokit({ authStrategy: createAppAuth, auth: { ...appAuth, installationId } });
      byInstallation.set(installationId, octokit);
    }
    return octokit;
  };

  const lookUp = async (target: Target): Promise<number> => {
    try {
      const { data, url } = await ("repo" in target
        ? app.request("GET /repos/{owner}/{repo}/installation", splitRepo(target.repo))
        : app.request("GET /orgs/{org}/installation", { org: target.org }));
      const source = { kind: "rest", what: `GET ${new URL(url).pathname}` } as const;
      return int(source, object(source, data, "installation"), "id", "installation");
    } catch (error) {
      if (hasStatus(error, 404)) throw notInstalled(describeTarget(target));
      throw apiError(error, retries);
    }
  };

  return {
    isApp: true,
    app,
    speakerFor: async (target) => {
      if (auth.installationId !== undefined) {
        return {
          octokit: installationOctokit(auth.installationId),
          installationId: auth.installationId,
        };
      }
      const key = describeTarget(target);
      let pending = installationOf.get(key);
      if (!pending) {
        pending = lookUp(target);
        installationOf.set(key, pending);
        // A failed lookup is not cached: the App may be installed by the next try.
        pending.catch(() => installationOf.delete(key));
      }
      const installationId = await pending;
      return { octokit: installationOctokit(installationId), installationId };
    },
  };
}
