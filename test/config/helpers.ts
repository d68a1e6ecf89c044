import { expect } from "vitest";
import { loadServiceConfig, ServiceConfigError } from "../../runner/config/index.js";
import type { ServiceConfig } from "../../runner/config/index.js";

export const FILE = "/etc/sandboxed/sandboxed.yml";

// Lines 1-7: the smallest valid config. Rows append lines from line 8 on.
export const HEAD = "apiVersion: sandboxed/v1\nkind: ServiceConfig\n";
export const GITHUB = "github:\n  app: { id: 12345, privateKeyFile: app.pem }\n";
export const SCOPE = "scope: { organization: octo-org }\n";
export const LABELS =
  "labelSets:\n  - { name: default, labels: [sandboxed], policy: policies/default.yml }\n";
export const MINIMAL = HEAD + GITHUB + SCOPE + LABELS;

export function load(text: string, hostCpus?: number): ServiceConfig {
  return loadServiceConfig(FILE, {
    readFile: (file) => (file === FILE ? text : undefined),
    ...(hostCpus === undefined ? {} : { hostCpus }),
  });
}

/** Findings as `line:col message (hint)`, or [] when the text loads. */
export function findingsOf(text: string): string[] {
  try {
    load(text);
    return [];
  } catch (error) {
    if (!(error instanceof ServiceConfigError)) throw error;
    expect(error.findings.every((f) => f.file === FILE)).toBe(true);
    return error.findings.map(
      (f) => `${f.line}:${f.col} ${f.message}${f.hint === undefined ? "" : ` (${f.hint})`}`,
    );
  }
}
