import { describe, expect, it } from "vitest";
import { findingsOf, GITHUB, HEAD, LABELS, MINIMAL, SCOPE } from "./helpers.js";

type Row = { name: string; text: string; findings: string[] };

const DURATION_FORM = "whole days, hours, minutes and seconds, e.g. 14d, 5m or 1h30m";

describe("loadServiceConfig: invalid configs, every finding with line:col and its fix", () => {
  it.each<Row>([
    // --- the file as a whole ---
    {
      name: "empty file",
      text: "# nothing yet\n",
      findings: [
        "1:1 a service config must be a mapping of keys; found an empty file (start from examples/serve/sandboxed.yml, or begin with apiVersion: sandboxed/v1 and kind: ServiceConfig)",
      ],
    },
    {
      name: "a list at the top",
      text: "- github\n",
      findings: [
        "1:1 a service config must be a mapping of keys; found a list (start from examples/serve/sandboxed.yml, or begin with apiVersion: sandboxed/v1 and kind: ServiceConfig)",
      ],
    },
    {
      name: "duplicate key",
      text: `${MINIMAL}idleTimeout: 5m\nidleTimeout: 6m\n`,
      findings: ["9:1 key idleTimeout appears twice in one mapping (remove one)"],
    },
    {
      name: "two YAML documents",
      text: `${MINIMAL}---\nkind: ServiceConfig\n`,
      findings: ["8:1 a second YAML document: a config file holds one (remove the ---)"],
    },
    // --- required keys, version and kind ---
    {
      name: "missing required top-level keys",
      text: HEAD,
      findings: [
        "1:1 missing required key github (add github: { app: { id: 12345, privateKeyFile: /etc/sandboxed/app.pem } })",
        "1:1 missing required key scope (add scope: { organization: octo-org })",
        "1:1 missing required key labelSets (add labelSets: [{ name: default, labels: [sandboxed], policy: policies/default.yml }])",
      ],
    },
    {
      name: "a policy's apiVersion spelling and kind",
      text: `apiVersion: sandboxed.dev/v1\nkind: Policy\n${GITHUB}${SCOPE}${LABELS}`,
      findings: [
        '1:13 apiVersion must be sandboxed/v1; got "sandboxed.dev/v1" (write apiVersion: sandboxed/v1)',
        '2:7 kind must be ServiceConfig; got "Policy" (write kind: ServiceConfig; policies are files of their own, named in labelSets[].policy)',
      ],
    },
    {
      name: "version instead of apiVersion",
      text: `version: v1\nkind: ServiceConfig\n${GITHUB}${SCOPE}${LABELS}`,
      findings: [
        "1:1 missing required key apiVersion (add apiVersion: sandboxed/v1)",
        "1:1 unknown key version at the top level (write apiVersion: sandboxed/v1)",
      ],
    },
    // --- unknown keys: a suggestion, or where the key belongs ---
    {
      name: "misspelt key",
      text: `${MINIMAL}idleTimout: 5m\n`,
      findings: ["8:1 unknown key idleTimout at the top level (did you mean idleTimeout?)"],
    },
    {
      name: "key in the wrong section",
      text: `${MINIMAL}interval: 30s\n`,
      findings: ["8:1 unknown key interval at the top level (interval belongs under reconcile)"],
    },
    {
      name: "unknown key with no near match lists the valid keys",
      text: `${MINIMAL}logs: { dir: /l, rotate: daily }\n`,
      findings: ["8:18 unknown key rotate in logs (valid keys in logs: dir, retention)"],
    },
    // --- GitHub credentials ---
    {
      name: "neither app nor token",
      text: `${HEAD}github: { apiUrl: https://api.github.com }\n${SCOPE}${LABELS}`,
      findings: [
        "3:1 github needs app or token; found neither (add app: { id: 12345, privateKeyFile: /etc/sandboxed/app.pem } or token: { file: /etc/sandboxed/token })",
      ],
    },
    {
      name: "both app and token",
      text: `${HEAD}github:\n  app: { id: 1, privateKeyFile: k.pem }\n  token: { file: t }\n${SCOPE}${LABELS}`,
      findings: [
        "5:3 github has both app and token; it takes one (remove token to use the App, or remove app to use the token)",
      ],
    },
    {
      name: "an inline token is refused and not repeated",
      text: `${HEAD}github: { token: ghp_0123456789abcdef }\n${SCOPE}${LABELS}`,
      findings: [
        "3:18 github.token must be { file: PATH }: an inline token is refused (put the token in a file with mode 600 and write token: { file: /etc/sandboxed/token })",
      ],
    },
    {
      name: "an inline private key is refused and not repeated",
      text: `${HEAD}github:\n  app: { id: 1, privateKeyFile: "-----BEGIN RSA PRIVATE KEY-----" }\n${SCOPE}${LABELS}`,
      findings: [
        "4:33 github.app.privateKeyFile holds what looks like a secret, not a file path (put the secret in a file with mode 600 and write that file's path here)",
      ],
    },
    {
      name: "privateKey instead of privateKeyFile",
      text: `${HEAD}github:\n  app: { id: 1, privateKey: k.pem }\n${SCOPE}${LABELS}`,
      findings: [
        "4:8 missing required key github.app.privateKeyFile (add privateKeyFile: /etc/sandboxed/app.pem)",
        "4:17 unknown key privateKey in github.app (did you mean privateKeyFile?)",
      ],
    },
    {
      name: "App id quoted, and fractional",
      text: `${HEAD}github:\n  app: { id: "12345", privateKeyFile: k, installationId: 1.5 }\n${SCOPE}${LABELS}`,
      findings: [
        '4:14 github.app.id must be a number, got "12345" (write id: 12345)',
        "4:58 github.app.installationId must be a whole number, got 1.5 (write installationId: 2)",
      ],
    },
    {
      name: "apiUrl: the web host, a trailing slash, not a URL",
      text: `${HEAD}github:\n  apiUrl: https://github.com\n  token: { file: t }\n${SCOPE}${LABELS}`,
      findings: [
        '4:11 github.apiUrl is "https://github.com": github.com serves web pages, not the REST API (write https://api.github.com)',
      ],
    },
    {
      name: "apiUrl with a trailing slash",
      text: `${HEAD}github:\n  apiUrl: https://ghe.example.com/api/v3/\n  token: { file: t }\n${SCOPE}${LABELS}`,
      findings: [
        '4:11 github.apiUrl is "https://ghe.example.com/api/v3/": not in normal form (write https://ghe.example.com/api/v3)',
      ],
    },
    // --- scope ---
    {
      name: "neither repositories nor organization",
      text: `${HEAD}${GITHUB}scope: {}\n${LABELS}`,
      findings: [
        "5:1 scope needs repositories or organization; found neither (add organization: octo-org, or repositories: [octo-org/app])",
      ],
    },
    {
      name: "both repositories and organization",
      text: `${HEAD}${GITHUB}scope: { repositories: [o/a], organization: o }\n${LABELS}`,
      findings: [
        "5:31 scope has both repositories and organization; it takes one (remove repositories to serve every repository of the organization, or remove organization)",
      ],
    },
    {
      name: "repositories: a URL, a bare owner, a duplicate, empty",
      text: `${HEAD}${GITHUB}scope:\n  repositories: [https://github.com/octo/lib.git, octo, octo/app, Octo/App]\n${LABELS}`,
      findings: [
        '6:18 scope.repositories[0] is "https://github.com/octo/lib.git": a repository is owner/name, not a URL (write octo/lib)',
        '6:51 scope.repositories[1] is "octo": not owner/name (write octo/REPO, or use scope.organization: octo)',
        '6:67 scope.repositories[3] "Octo/App" is listed twice (also [2]) (remove scope.repositories[3])',
      ],
    },
    {
      name: "repositories empty",
      text: `${HEAD}${GITHUB}scope: { repositories: [] }\n${LABELS}`,
      findings: [
        "5:24 scope.repositories is empty (list owner/name entries, or use scope.organization)",
      ],
    },
    {
      name: "organization written as owner/name",
      text: `${HEAD}${GITHUB}scope: { organization: octo-org/app }\n${LABELS}`,
      findings: [
        '5:24 scope.organization is "octo-org/app": an organization has no / (write scope: { repositories: [octo-org/app] } for one repository)',
      ],
    },
    // --- label sets ---
    {
      name: "no label sets",
      text: `${HEAD}${GITHUB}${SCOPE}labelSets: []\n`,
      findings: [
        "6:12 labelSets is empty (add one: - { name: default, labels: [sandboxed], policy: policies/default.yml })",
      ],
    },
    {
      name: "a label set without labels or policy",
      text: `${HEAD}${GITHUB}${SCOPE}labelSets:\n  - name: default\n    labels: []\n`,
      findings: [
        "7:5 missing required key labelSets[0].policy (add policy: policies/default.yml)",
        "8:13 labelSets[0].labels is empty (list the runs-on labels these runners take, e.g. [sandboxed])",
      ],
    },
    {
      name: "labels as one string with a comma",
      text: `${HEAD}${GITHUB}${SCOPE}labelSets:\n  - { name: a, labels: "sandboxed, large", policy: p.yml }\n`,
      findings: [
        '7:24 labelSets[0].labels must be a list, got "sandboxed, large" (write labels: [sandboxed, large])',
      ],
    },
    {
      name: "a label with a comma inside a list",
      text: `${HEAD}${GITHUB}${SCOPE}labelSets:\n  - { name: a, labels: ["sandboxed,large"], policy: p.yml }\n`,
      findings: [
        '7:25 labelSets[0].labels[0] is "sandboxed,large": a label has no comma (write labels: [sandboxed, large])',
      ],
    },
    {
      name: "duplicate names, labels repeated, identical label sets (case does not count)",
      text: `${HEAD}${GITHUB}${SCOPE}labelSets:\n  - { name: a, labels: [sandboxed, large], policy: p.yml }\n  - { name: a, labels: [Large, SANDBOXED, large], policy: q.yml }\n`,
      findings: [
        '8:13 labelSets[1].name "a" is used twice (also labelSets[0]) (give each label set its own name)',
        "8:24 labelSets[1].labels are the same as labelSets[0].labels; a job could not tell them apart (add a label to one of them, e.g. [large, sandboxed, gpu])",
        '8:43 labelSets[1].labels[2] "large" is listed twice (also [0]) (remove labelSets[1].labels[2])',
      ],
    },
    {
      name: "name not a slug, backend from elsewhere, repoPolicy as a word",
      text: `${HEAD}${GITHUB}${SCOPE}labelSets:\n  - { name: Big Runners, labels: [x], policy: p.yml, backend: docker, repoPolicy: "yes" }\n`,
      findings: [
        '7:13 labelSets[0].name is "Big Runners": not lowercase letters, digits and -, up to 32 characters (write big-runners)',
        '7:63 labelSets[0].backend must be vm or container; got "docker" (did you mean container?)',
        '7:83 labelSets[0].repoPolicy must be true or false, got "yes" (write repoPolicy: true)',
      ],
    },
    {
      name: "an empty policy path",
      text: `${HEAD}${GITHUB}${SCOPE}labelSets:\n  - { name: a, labels: [x], policy: "" }\n`,
      findings: ['7:37 labelSets[0].policy is "": a path is empty (write a file path)'],
    },
    // --- capacity ---
    {
      name: "capacity below 1, memory in GB",
      text: `${MINIMAL}capacity: { sandboxes: 0, cpus: 0, memory: 16GB }\n`,
      findings: [
        "8:24 capacity.sandboxes is 0; it must be at least 1 (write sandboxes: 1)",
        "8:33 capacity.cpus is 0; it must be at least 1 (write cpus: 1)",
        '8:44 capacity.memory is "16GB": not a whole number with KiB, MiB, GiB or TiB, e.g. 16GiB (write 16GiB)',
      ],
    },
    {
      name: "memory without a unit",
      text: `${MINIMAL}capacity: { memory: 16 }\n`,
      findings: [
        `8:21 capacity.memory is 16 with no unit (a size needs a unit: write a whole number with KiB, MiB, GiB or TiB, e.g. 4GiB or 512MiB)`,
      ],
    },
    // --- webhook and metrics addresses ---
    {
      name: "webhook without a secret file, port without a host",
      text: `${MINIMAL}webhook: { listen: 8080 }\n`,
      findings: [
        "8:10 missing required key webhook.secretFile (add secretFile: /etc/sandboxed/webhook-secret)",
        "8:20 webhook.listen is 8080: not host:port (write listen: 127.0.0.1:8080 for this host only, or 0.0.0.0:8080 for all interfaces)",
      ],
    },
    {
      name: "an inline webhook secret",
      text: `${MINIMAL}webhook: { listen: 127.0.0.1:8080, secret: hunter2, secretFile: s }\n`,
      findings: ["8:36 unknown key secret in webhook (did you mean secretFile?)"],
    },
    {
      name: "listen as a URL, a relative socket, a port out of range, a path without /",
      text:
        `${MINIMAL}webhook: { listen: "http://0.0.0.0:8080/", path: webhook, secretFile: s }\n` +
        'metrics: { listen: "unix:run/metrics.sock" }\n',
      findings: [
        '8:20 webhook.listen is "http://0.0.0.0:8080/": a listen address is not a URL (write 0.0.0.0:8080)',
        '8:50 webhook.path is "webhook": a URL path starts with / (write /webhook)',
        '9:20 metrics.listen is "unix:run/metrics.sock": a socket path must be absolute (write unix:/run/sandboxed/metrics.sock)',
      ],
    },
    {
      name: "port 65536, missing host",
      text: `${MINIMAL}webhook: { listen: "127.0.0.1:65536", secretFile: s }\nmetrics: { listen: ":9464" }\n`,
      findings: [
        '8:20 webhook.listen is "127.0.0.1:65536": port 65536 is not 0-65535 in normal form (write 127.0.0.1:65535)',
        '9:20 metrics.listen is ":9464": the host is missing (write 127.0.0.1:9464 for this host only, or 0.0.0.0:9464 for all interfaces)',
      ],
    },
    // --- the runner tarball ---
    {
      name: "runner sha256 in capitals",
      text: `${MINIMAL}runner: { sha256: ${"AB".repeat(32)} }\n`,
      findings: [
        `8:19 runner.sha256 is "${"AB".repeat(32)}": not in normal form: 64 lowercase hex digits (write ${"ab".repeat(32)})`,
      ],
    },
    {
      name: "runner sha256 too short",
      text: `${MINIMAL}runner: { tarball: r.tgz, sha256: abc }\n`,
      findings: [
        '8:35 runner.sha256 is "abc": not a sha256 sum (write the 64 hex digits that `sha256sum FILE` prints)',
      ],
    },
    // --- durations: the 10s floor on both sides, units, days ---
    {
      name: "reconcile interval 9s, just under the floor",
      text: `${MINIMAL}reconcile: { interval: 9s }\n`,
      findings: [
        '8:24 reconcile.interval is "9s"; it must be at least 10s (write interval: 10s or more; webhooks start jobs at once, polling only catches up)',
      ],
    },
    {
      name: "idle timeout without a unit",
      text: `${MINIMAL}idleTimeout: 5\n`,
      findings: ["8:14 idleTimeout is 5 with no unit (a duration needs a unit: write 5m or 5s)"],
    },
    {
      name: "retention spelled out in weeks and days",
      text: `${MINIMAL}logs: { retention: 2 weeks }\nidleTimeout: 1 day\n`,
      findings: [
        `8:20 logs.retention is "2 weeks": not ${DURATION_FORM} (write 14d)`,
        `9:14 idleTimeout is "1 day": not ${DURATION_FORM} (write 1d)`,
      ],
    },
    {
      name: "a duration that is no duration",
      text: `${MINIMAL}reconcile: { interval: soon }\n`,
      findings: [
        `8:24 reconcile.interval is "soon": not ${DURATION_FORM} (write ${DURATION_FORM})`,
      ],
    },
  ])("$name", ({ text, findings }) => {
    expect(findingsOf(text)).toEqual(findings);
  });

  it("reports a YAML syntax error at its position", () => {
    const [first] = findingsOf(`${HEAD}github: { app: [ }\n`);
    expect(first).toMatch(/^3:\d+ /);
  });
});
