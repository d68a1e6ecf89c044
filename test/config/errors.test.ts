// One test per error code of the config area, asserting message and hint (STYLE H6).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  loadServiceConfig,
  readSecretFile,
  ServiceConfigError,
} from "../../runner/config/index.js";
import { SandboxedError } from "../../runner/errors/index.js";
import { FILE, load, MINIMAL } from "./helpers.js";

function thrown(fn: () => unknown): SandboxedError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SandboxedError) return error;
    throw error;
  }
  throw new Error("expected a SandboxedError");
}

const dir = mkdtempSync(path.join(tmpdir(), "sbx-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SBX_CONFIG_INVALID", () => {
  it("lists every finding as file:line:col message (fix), the first fix as hint", () => {
    const error = thrown(() => load(`${MINIMAL}idleTimout: 5m\nreconcile: { interval: 5s }\n`));
    expect(error).toBeInstanceOf(ServiceConfigError);
    expect(error.code).toBe("SBX_CONFIG_INVALID");
    expect(error.message).toBe(
      `${FILE}: 2 errors\n` +
        `  ${FILE}:8:1 unknown key idleTimout at the top level (did you mean idleTimeout?)\n` +
        `  ${FILE}:9:24 reconcile.interval is "5s"; it must be at least 10s (write interval: 10s or more; webhooks start jobs at once, polling only catches up)`,
    );
    expect(error.hint).toBe("did you mean idleTimeout?");
    expect(error.source).toEqual({ file: FILE, line: 8, col: 1 });
  });

  it("collects every finding but lists at most 50", () => {
    const keys = Array.from({ length: 60 }, (_, i) => `extra${i}: 1\n`).join("");
    const error = thrown(() => load(MINIMAL + keys)) as ServiceConfigError;
    expect(error.findings).toHaveLength(60);
    const lines = error.message.split("\n");
    expect(lines[0]).toBe(`${FILE}: 60 errors`);
    expect(lines).toHaveLength(1 + 50 + 1);
    expect(lines.at(-1)).toBe("  … and 10 more");
  });

  it("never repeats an inline secret", () => {
    const error = thrown(() =>
      load(MINIMAL.replace("app: { id: 12345, privateKeyFile: app.pem }", "token: ghp_s3cr3t")),
    );
    expect(error.message).not.toContain("ghp_s3cr3t");
    expect(error.hint).toBe(
      "put the token in a file with mode 600 and write token: { file: /etc/sandboxed/token }",
    );
  });
});

describe("SBX_CONFIG_MISSING", () => {
  it("says how to create the file from the example", () => {
    const error = thrown(() => loadServiceConfig(path.join(dir, "nope.yml")));
    expect(error.code).toBe("SBX_CONFIG_MISSING");
    expect(error.message).toBe(`${dir}/nope.yml: no such file`);
    expect(error.hint).toBe(
      `create it from the example shipped with sandboxed: cp examples/serve/sandboxed.yml ${dir}/nope.yml, then set github and scope (docs/configuration.md)`,
    );
  });
});

describe("SBX_CONFIG_UNREADABLE", () => {
  it("names a folder given for the file", () => {
    const error = thrown(() => loadServiceConfig(dir));
    expect(error.code).toBe("SBX_CONFIG_UNREADABLE");
    expect(error.message).toBe(`${dir} is a folder, not a file`);
    expect(error.hint).toBe(`pass the file itself, e.g. ${dir}/sandboxed.yml`);
  });
});

describe("SBX_CONFIG_SECRET", () => {
  type Row = {
    name: string;
    content?: string;
    mode?: number;
    fifo?: true;
    message: string;
    hint: string;
  };
  const at = (name: string) => path.join(dir, name);
  it.each<Row>([
    // --- mode: owner-only passes (below), any group or other bit fails ---
    {
      name: "readable by others (0644)",
      content: "s3cret\n",
      mode: 0o644,
      message: "FILE is readable by group or others (mode 0644); a secret file must be private",
      hint: "chmod 600 FILE",
    },
    {
      name: "readable by group only (0640)",
      content: "s3cret\n",
      mode: 0o640,
      message: "FILE is readable by group or others (mode 0640); a secret file must be private",
      hint: "chmod 600 FILE",
    },
    {
      name: "writable by group (0620)",
      content: "s3cret\n",
      mode: 0o620,
      message: "FILE is writable by group or others (mode 0620); a secret file must be private",
      hint: "chmod 600 FILE",
    },
    // --- content ---
    {
      name: "empty",
      content: "",
      mode: 0o600,
      message: "FILE is empty",
      hint: "write the secret into FILE (a trailing newline is ignored), keeping mode 600",
    },
    {
      name: "only a newline",
      content: "\n",
      mode: 0o600,
      message: "FILE is empty",
      hint: "write the secret into FILE (a trailing newline is ignored), keeping mode 600",
    },
    {
      name: "over 64 KiB",
      content: "x".repeat(64 * 1024 + 1),
      mode: 0o600,
      message: "FILE is 65537 bytes; a secret file holds at most 64 KiB",
      hint: "check the path: it should name the file holding only the secret",
    },
    // --- not a file ---
    {
      name: "missing",
      message: "FILE: no such file",
      hint: "create it private to the service user: install -m 600 /dev/null FILE, then write the secret into it",
    },
    {
      name: "a FIFO (opening must not hang)",
      fifo: true,
      message: "FILE is not a regular file",
      hint: "write the secret into a plain file with mode 600 and point the config at it",
    },
  ])("$name", ({ name, content, mode, fifo, message, hint }) => {
    const file = at(name.replace(/\W+/g, "-"));
    if (content !== undefined) {
      writeFileSync(file, content);
      chmodSync(file, mode ?? 0o600);
    }
    if (fifo) execFileSync("mkfifo", [file]);
    const error = thrown(() => readSecretFile(file));
    expect(error.code).toBe("SBX_CONFIG_SECRET");
    expect(error.message).toBe(message.replaceAll("FILE", file));
    expect(error.hint).toBe(hint.replaceAll("FILE", file));
    expect(error.message).not.toContain("s3cret");
  });
});
