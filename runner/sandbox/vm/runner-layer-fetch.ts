/**
 * The runner tarball's bytes: its sha256, and the pinned release downloaded once into
 * `<state>/cache/`, checked while it streams in and before every later use.
 */
import { createHash } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
} from "node:fs";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SandboxedError } from "../../errors/index.js";
import { checkRunnerChecksum } from "./runner-layer-plan.js";
import type { RunnerPin, TarballSource } from "./runner-layer-plan.js";

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

async function defaultDownload(url: string): Promise<AsyncIterable<Uint8Array>> {
  const res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(30 * 60_000) });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  return Readable.fromWeb(res.body);
}

/** The pinned tarball in `<state>/cache/`, downloaded once and checked before every use. */
export async function cachedDownload(options: {
  readonly stateDir: string;
  readonly pin: RunnerPin;
  readonly explicit: string | undefined;
  readonly download: ((url: string) => Promise<AsyncIterable<Uint8Array>>) | undefined;
  readonly progress: (line: string) => void;
}): Promise<string> {
  const { pin, explicit, progress } = options;
  const expected = explicit ?? pin.sha256;
  const cache = path.join(options.stateDir, "cache");
  mkdirSync(cache, { recursive: true });
  const file = path.join(cache, path.basename(new URL(pin.url).pathname));
  if (existsSync(file) && (await sha256Of(file)) === expected) return file;
  rmSync(file, { force: true });
  progress(`==> download ${pin.url}`);
  const part = `${file}.partial-${process.pid}`;
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    const source = await (options.download ?? defaultDownload)(pin.url);
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(source, hasher, createWriteStream(part, { mode: 0o644 }));
  } catch (error) {
    rmSync(part, { force: true });
    throw new SandboxedError(
      "SBX_TEMPLATE_RUNNER_DOWNLOAD",
      `downloading ${pin.url} failed: ${(error as Error).message}`,
      {
        hint: "download it where GitHub is reachable and pass --runner-tarball FILE",
        cause: error,
      },
    );
  }
  const actual = hash.digest("hex");
  const source: TarballSource = { kind: "download", url: pin.url, file };
  try {
    checkRunnerChecksum(source, actual, pin, explicit);
  } finally {
    if (actual !== expected) rmSync(part, { force: true });
  }
  renameSync(part, file);
  progress(`    ${(bytes / 2 ** 20).toFixed(0)} MiB, sha256 ${actual}`);
  return file;
}
