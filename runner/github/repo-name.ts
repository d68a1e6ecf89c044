/** Repository names and targets as strings (pure). */
import { badRepoName } from "./errors.js";
import type { Target } from "./types.js";

/** GitHub's owner (letters, digits, hyphens) and repository (also `.` and `_`) characters. */
const REPO = /^([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9._-]+)$/;

export function isRepoName(value: string): boolean {
  return REPO.test(value);
}

export function splitRepo(fullName: string): { owner: string; repo: string } {
  const match = REPO.exec(fullName);
  if (!match) throw badRepoName(fullName);
  return { owner: match[1]!, repo: match[2]! };
}

/** "octo-org/app" or "organization octo-org", for messages and cache keys. */
export function describeTarget(target: Target): string {
  return "repo" in target ? target.repo : `organization ${target.org}`;
}
