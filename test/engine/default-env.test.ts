// Default environment variables:
// https://docs.github.com/en/actions/reference/workflows-and-actions/variables#default-environment-variables
import { describe, expect, it } from "vitest";
import {
  defaultEnvironment,
  refNameAndType,
  type DefaultEnvInput,
} from "../../runner/engine/default-env.js";

const DOCS = "https://docs.github.com/en/actions/reference/workflows-and-actions/variables";
const TEMP = "/home/runner/work/_temp";
const FILES = `${TEMP}/_runner_file_commands`;

const PUSH: DefaultEnvInput = {
  workspace: "/home/runner/work/hello/hello",
  runnerTemp: TEMP,
  toolCache: "/opt/hostedtoolcache",
  eventName: "push",
  eventPath: "/home/runner/work/_temp/_github_workflow/event.json",
  sha: "ffac537e6cbbf934b08745a378932722df287a53",
  ref: "refs/heads/main",
  repository: "octocat/hello",
  repositoryOwner: "octocat",
  actor: "octocat",
  runId: 1658821493,
  runNumber: 3,
  runAttempt: 1,
  workflow: "CI",
  workflowRef: "octocat/hello/.github/workflows/ci.yml@refs/heads/main",
  job: "build",
  action: "__run",
  serverUrl: "https://github.com",
  apiUrl: "https://api.github.com",
  graphqlUrl: "https://api.github.com/graphql",
  runnerName: "sandboxed-1",
  runnerOs: "Linux",
  runnerArch: "X64",
  envFile: `${FILES}/set_env_1`,
  outputFile: `${FILES}/set_output_1`,
  pathFile: `${FILES}/add_path_1`,
  stateFile: `${FILES}/save_state_1`,
  summaryFile: `${FILES}/step_summary_1`,
  debug: false,
};

describe(`defaultEnvironment (${DOCS}#default-environment-variables)`, () => {
  it("builds every documented variable for a push", () => {
    expect(defaultEnvironment(PUSH)).toEqual({
      CI: "true",
      GITHUB_ACTION: "__run",
      GITHUB_ACTIONS: "true",
      GITHUB_ACTOR: "octocat",
      GITHUB_API_URL: "https://api.github.com",
      GITHUB_BASE_REF: "",
      GITHUB_ENV: `${FILES}/set_env_1`,
      GITHUB_EVENT_NAME: "push",
      GITHUB_EVENT_PATH: "/home/runner/work/_temp/_github_workflow/event.json",
      GITHUB_GRAPHQL_URL: "https://api.github.com/graphql",
      GITHUB_HEAD_REF: "",
      GITHUB_JOB: "build",
      GITHUB_OUTPUT: `${FILES}/set_output_1`,
      GITHUB_PATH: `${FILES}/add_path_1`,
      GITHUB_REF: "refs/heads/main",
      GITHUB_REF_NAME: "main",
      GITHUB_REF_TYPE: "branch",
      GITHUB_REPOSITORY: "octocat/hello",
      GITHUB_REPOSITORY_OWNER: "octocat",
      GITHUB_RUN_ATTEMPT: "1",
      GITHUB_RUN_ID: "1658821493",
      GITHUB_RUN_NUMBER: "3",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_SHA: "ffac537e6cbbf934b08745a378932722df287a53",
      GITHUB_STATE: `${FILES}/save_state_1`,
      GITHUB_STEP_SUMMARY: `${FILES}/step_summary_1`,
      GITHUB_TRIGGERING_ACTOR: "octocat",
      GITHUB_WORKFLOW: "CI",
      GITHUB_WORKFLOW_REF: "octocat/hello/.github/workflows/ci.yml@refs/heads/main",
      GITHUB_WORKFLOW_SHA: "ffac537e6cbbf934b08745a378932722df287a53",
      GITHUB_WORKSPACE: "/home/runner/work/hello/hello",
      RUNNER_ARCH: "X64",
      RUNNER_ENVIRONMENT: "self-hosted",
      RUNNER_NAME: "sandboxed-1",
      RUNNER_OS: "Linux",
      RUNNER_TEMP: TEMP,
      RUNNER_TOOL_CACHE: "/opt/hostedtoolcache",
      SANDBOXED: "true",
    });
  });

  it.each<{ name: string; input: Partial<DefaultEnvInput>; expect: Record<string, string> }>([
    {
      // GITHUB_HEAD_REF/GITHUB_BASE_REF: "only set when the event ... is either pull_request or pull_request_target"
      name: "pull request refs",
      input: {
        eventName: "pull_request",
        ref: "refs/pull/7/merge",
        headRef: "feature",
        baseRef: "main",
      },
      expect: {
        GITHUB_HEAD_REF: "feature",
        GITHUB_BASE_REF: "main",
        GITHUB_REF_NAME: "7/merge",
        GITHUB_REF_TYPE: "branch",
      },
    },
    {
      name: "tag",
      input: { ref: "refs/tags/v1.2.0" },
      expect: { GITHUB_REF_NAME: "v1.2.0", GITHUB_REF_TYPE: "tag" },
    },
    // RUNNER_DEBUG: "set only if debug logging is enabled, and always has the value of 1"
    { name: "debug logging", input: { debug: true }, expect: { RUNNER_DEBUG: "1" } },
    {
      name: "optional ids and flags",
      input: {
        actorId: 583231,
        repositoryId: "1296269",
        repositoryOwnerId: 1,
        refProtected: true,
        retentionDays: 90,
      },
      expect: {
        GITHUB_ACTOR_ID: "583231",
        GITHUB_REPOSITORY_ID: "1296269",
        GITHUB_REPOSITORY_OWNER_ID: "1",
        GITHUB_REF_PROTECTED: "true",
        GITHUB_RETENTION_DAYS: "90",
      },
    },
    {
      name: "re-run by someone else",
      input: { triggeringActor: "hubot", runAttempt: 2 },
      expect: {
        GITHUB_ACTOR: "octocat",
        GITHUB_TRIGGERING_ACTOR: "hubot",
        GITHUB_RUN_ATTEMPT: "2",
      },
    },
    {
      name: "workflow from another commit",
      input: { workflowSha: "abc123" },
      expect: { GITHUB_WORKFLOW_SHA: "abc123" },
    },
    {
      name: "a step of an action",
      input: {
        action: "actionscheckout",
        actionPath: "/home/runner/work/_actions/actions/checkout/v4",
        actionRepository: "actions/checkout",
      },
      expect: {
        GITHUB_ACTION: "actionscheckout",
        GITHUB_ACTION_PATH: "/home/runner/work/_actions/actions/checkout/v4",
        GITHUB_ACTION_REPOSITORY: "actions/checkout",
      },
    },
    { name: "arm64", input: { runnerArch: "ARM64" }, expect: { RUNNER_ARCH: "ARM64" } },
  ])("$name", ({ input, expect: expected }) => {
    expect(defaultEnvironment({ ...PUSH, ...input })).toMatchObject(expected);
  });

  it.each<{ name: string; absent: string }>([
    { name: "RUNNER_DEBUG without debug", absent: "RUNNER_DEBUG" },
    { name: "GITHUB_ACTION_PATH outside an action", absent: "GITHUB_ACTION_PATH" },
    { name: "GITHUB_ACTOR_ID when unknown", absent: "GITHUB_ACTOR_ID" },
    { name: "GITHUB_REF_PROTECTED when unknown", absent: "GITHUB_REF_PROTECTED" },
  ])("leaves out $name", ({ absent }) => {
    expect(defaultEnvironment(PUSH)).not.toHaveProperty(absent);
  });

  it("returns a frozen object", () => {
    expect(Object.isFrozen(defaultEnvironment(PUSH))).toBe(true);
  });
});

// GITHUB_REF_NAME / GITHUB_REF_TYPE rows from the docs' variable table.
describe(`refNameAndType (${DOCS}#default-environment-variables)`, () => {
  it.each<{ name: string; ref: string; expect: { name: string; type: string } }>([
    { name: "branch", ref: "refs/heads/main", expect: { name: "main", type: "branch" } },
    {
      name: "branch with slashes",
      ref: "refs/heads/feature/x",
      expect: { name: "feature/x", type: "branch" },
    },
    { name: "tag", ref: "refs/tags/v1", expect: { name: "v1", type: "tag" } },
    {
      name: "pull request merge ref",
      ref: "refs/pull/7/merge",
      expect: { name: "7/merge", type: "branch" },
    },
    {
      name: "other ref kept whole",
      ref: "refs/notes/x",
      expect: { name: "refs/notes/x", type: "" },
    },
    { name: "bare prefix", ref: "refs/heads/", expect: { name: "refs/heads/", type: "" } },
    { name: "empty", ref: "", expect: { name: "", type: "" } },
  ])("$name", ({ ref, expect: expected }) => {
    expect(refNameAndType(ref)).toEqual(expected);
  });
});
