import { describe, expect, it } from "vitest";
import type { ServiceConfig } from "../../runner/config/index.js";
import { FILE, GITHUB, HEAD, LABELS, load, MINIMAL, SCOPE } from "./helpers.js";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const GiB = 2 ** 30;

describe("loadServiceConfig: valid configs", () => {
  type Row = {
    name: string;
    text: string;
    hostCpus?: number;
    expect: Partial<Record<keyof ServiceConfig, unknown>>;
  };
  it.each<Row>([
    // --- defaults ---
    {
      name: "the smallest config: every default filled, paths absolute",
      text: MINIMAL,
      hostCpus: 8,
      expect: {
        file: FILE,
        github: {
          apiUrl: "https://api.github.com",
          auth: { kind: "app", appId: 12345, privateKeyFile: "/etc/sandboxed/app.pem" },
        },
        scope: { organization: "octo-org" },
        runnerGroupId: 1,
        labelSets: [
          {
            name: "default",
            labels: ["sandboxed"],
            policy: "/etc/sandboxed/policies/default.yml",
            template: "default",
            backend: "vm",
            repoPolicy: false,
            source: { file: FILE, line: 7, col: 5 },
          },
        ],
        capacity: { sandboxes: 4 },
        reconcile: { intervalMs: MINUTE },
        idleTimeoutMs: 5 * MINUTE,
        stateDir: "/var/lib/sandboxed",
        logs: { dir: "/var/log/sandboxed", retentionMs: 14 * DAY },
        webhook: undefined,
        metrics: undefined,
        ceilings: undefined,
        hooksDir: undefined,
        runner: undefined,
      },
    },
    // --- capacity.sandboxes default: one per two host CPUs, at least 1 ---
    {
      name: "7 host CPUs: 3 sandboxes",
      text: MINIMAL,
      hostCpus: 7,
      expect: { capacity: { sandboxes: 3 } },
    },
    {
      name: "2 host CPUs: 1 sandbox",
      text: MINIMAL,
      hostCpus: 2,
      expect: { capacity: { sandboxes: 1 } },
    },
    {
      name: "1 host CPU: still 1 sandbox",
      text: MINIMAL,
      hostCpus: 1,
      expect: { capacity: { sandboxes: 1 } },
    },
    {
      name: "host CPUs not given: 1 sandbox",
      text: MINIMAL,
      expect: { capacity: { sandboxes: 1 } },
    },
    {
      name: "host CPUs not a number: 1 sandbox",
      text: MINIMAL,
      hostCpus: NaN,
      expect: { capacity: { sandboxes: 1 } },
    },
    {
      name: "capacity set: host CPUs ignored, memory in bytes",
      text: `${MINIMAL}capacity: { sandboxes: 3, cpus: 8, memory: 16GiB }\n`,
      hostCpus: 64,
      expect: { capacity: { sandboxes: 3, cpus: 8, memoryBytes: 16 * GiB } },
    },
    // --- credentials and scope ---
    {
      name: "a token file and repositories",
      text: `${HEAD}github: { token: { file: ./secrets/token } }\nscope: { repositories: [octo-org/app, octo-org/lib.js] }\n${LABELS}`,
      expect: {
        github: {
          apiUrl: "https://api.github.com",
          auth: { kind: "token", tokenFile: "/etc/sandboxed/secrets/token" },
        },
        scope: { repositories: ["octo-org/app", "octo-org/lib.js"] },
      },
    },
    {
      name: "GHES URL, installation id, runner group",
      text: `${HEAD}github:\n  apiUrl: https://ghe.example.com/api/v3\n  app: { id: 1, privateKeyFile: /k.pem, installationId: 678 }\n${SCOPE}${LABELS}runnerGroupId: 4\n`,
      expect: {
        github: {
          apiUrl: "https://ghe.example.com/api/v3",
          auth: { kind: "app", appId: 1, privateKeyFile: "/k.pem", installationId: 678 },
        },
        runnerGroupId: 4,
      },
    },
    {
      name: "the emulator's plain-HTTP URL",
      text: `${HEAD}github:\n  apiUrl: http://127.0.0.1:39123\n  token: { file: t }\n${SCOPE}${LABELS}`,
      expect: {
        github: {
          apiUrl: "http://127.0.0.1:39123",
          auth: { kind: "token", tokenFile: "/etc/sandboxed/t" },
        },
      },
    },
    // --- label sets ---
    {
      name: "two label sets, one a superset of the other",
      text: `${HEAD}${GITHUB}${SCOPE}labelSets:\n  - { name: default, labels: [sandboxed], policy: default.yml, repoPolicy: true }\n  - { name: large, labels: [sandboxed, large], policy: ../large.yml, template: big, backend: container }\n`,
      expect: {
        labelSets: [
          {
            name: "default",
            labels: ["sandboxed"],
            policy: "/etc/sandboxed/default.yml",
            template: "default",
            backend: "vm",
            repoPolicy: true,
            source: { file: FILE, line: 7, col: 5 },
          },
          {
            name: "large",
            labels: ["sandboxed", "large"],
            policy: "/etc/large.yml",
            template: "big",
            backend: "container",
            repoPolicy: false,
            source: { file: FILE, line: 8, col: 5 },
          },
        ],
      },
    },
    // --- webhook, metrics, durations, folders ---
    {
      name: "every optional key set",
      text:
        `${MINIMAL}ceilings: ceilings.yml\n` +
        "webhook: { listen: 0.0.0.0:8080, path: /hooks/github, secretFile: webhook-secret }\n" +
        "reconcile: { interval: 10s }\nidleTimeout: 1m30s\nstateDir: state\n" +
        'logs: { dir: /srv/logs, retention: 1d12h }\nmetrics: { listen: "[::1]:9464" }\nhooksDir: hooks.d\n' +
        `runner: { tarball: runner.tar.gz, sha256: ${"ab".repeat(32)} }\n`,
      expect: {
        ceilings: "/etc/sandboxed/ceilings.yml",
        webhook: {
          listen: { host: "0.0.0.0", port: 8080 },
          path: "/hooks/github",
          secretFile: "/etc/sandboxed/webhook-secret",
        },
        reconcile: { intervalMs: 10_000 },
        idleTimeoutMs: 90_000,
        stateDir: "/etc/sandboxed/state",
        logs: { dir: "/srv/logs", retentionMs: 1.5 * DAY },
        metrics: { listen: { host: "::1", port: 9464 } },
        hooksDir: "/etc/sandboxed/hooks.d",
        runner: { tarball: "/etc/sandboxed/runner.tar.gz", sha256: "ab".repeat(32) },
      },
    },
    {
      name: "webhook on a Unix socket, default path; port 0 for metrics",
      text: `${MINIMAL}webhook: { listen: "unix:/run/sandboxed/webhook.sock", secretFile: /etc/s }\nmetrics: { listen: "localhost:0" }\n`,
      expect: {
        webhook: {
          listen: { path: "/run/sandboxed/webhook.sock" },
          path: "/webhook",
          secretFile: "/etc/s",
        },
        metrics: { listen: { host: "localhost", port: 0 } },
      },
    },
  ])("$name", ({ text, hostCpus, expect: want }) => {
    const config = load(text, hostCpus);
    for (const [key, value] of Object.entries(want)) {
      expect(config[key as keyof ServiceConfig], key).toEqual(value);
    }
  });

  it("is deeply frozen", () => {
    const config = load(`${MINIMAL}webhook: { listen: 127.0.0.1:1, secretFile: s }\n`);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.labelSets[0]!.labels)).toBe(true);
    expect(Object.isFrozen(config.webhook!.listen)).toBe(true);
  });

  it("records where each key was written, values at the value", () => {
    const config = load(MINIMAL);
    expect(config.origins["labelSets[0].policy"]).toEqual({ file: FILE, line: 7, col: 51 });
    expect(config.origins["github.app"]).toEqual({ file: FILE, line: 4, col: 3 });
  });
});
