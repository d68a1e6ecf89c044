// Crash safety (issue 3 item 6): what is recorded is removed, by destroy and by gc, and a record
// never makes gc kill a process that is not ours.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  cgroupLayout,
  collectGarbage,
  createCgroup,
  createJournal,
  listSandboxes,
  openJournal,
  removeAll,
} from "../../runner/sandbox/index.js";

const isRoot = process.getuid?.() === 0;

function stateDir(): string {
  return mkdtempSync(path.join(tmpdir(), "sbx-state-"));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("records", () => {
  it("removes recorded files, folders and processes, newest first", async () => {
    const state = stateDir();
    const journal = createJournal(state, "sbx-rec-1");
    const dir = path.join(journal.dir, "disks");
    journal.record({ kind: "dir", path: dir });
    mkdirSync(dir);
    const file = path.join(dir, "overlay.qcow2");
    journal.record({ kind: "file", path: file });
    writeFileSync(file, "x");
    const pidfile = path.join(journal.dir, "proc.pid");
    journal.record({ kind: "process", pidfile, match: "sbx-rec-1-marker" });
    // The marker must be in the cmdline: sh -c with the marker as $0.
    const marked = spawn("sh", ["-c", "sleep 600", "sbx-rec-1-marker"]);
    writeFileSync(pidfile, String(marked.pid));
    expect(await removeAll(journal)).toEqual([]);
    // Our own child: killed, it stays a zombie until Node reaps it, so wait for its exit.
    if (marked.signalCode === null) await new Promise((r) => marked.once("exit", r));
    expect(marked.signalCode).toBe("SIGKILL");
    expect(existsSync(file)).toBe(false);
    expect(existsSync(journal.dir)).toBe(false);
  });

  it("never kills a process whose command line does not name the sandbox (recycled pid)", async () => {
    const state = stateDir();
    const journal = createJournal(state, "sbx-rec-2");
    const pidfile = path.join(journal.dir, "proc.pid");
    journal.record({ kind: "process", pidfile, match: "sbx-rec-2" });
    const stranger = spawn("sleep", ["600"]);
    writeFileSync(pidfile, String(stranger.pid));
    await removeAll(journal);
    expect(alive(stranger.pid!)).toBe(true);
    stranger.kill();
  });

  it("removes a lock only while it still names this sandbox (a lost race leaves the winner's)", async () => {
    const state = stateDir();
    const journal = createJournal(state, "sbx-rec-lock");
    const mine = path.join(state, "mine.lock");
    const theirs = path.join(state, "theirs.lock");
    journal.record({ kind: "lock", path: mine, owner: "sbx-rec-lock" });
    writeFileSync(mine, "sbx-rec-lock");
    journal.record({ kind: "lock", path: theirs, owner: "sbx-rec-lock" });
    writeFileSync(theirs, "sbx-other");
    expect(await removeAll(journal)).toEqual([]);
    expect(existsSync(mine)).toBe(false);
    expect(existsSync(theirs)).toBe(true);
  });

  it("ignores a torn last line left by a crash mid-write", () => {
    const state = stateDir();
    const journal = createJournal(state, "sbx-rec-3");
    journal.record({ kind: "file", path: "/nonexistent/a" });
    writeFileSync(
      path.join(journal.dir, "resources.jsonl"),
      '{"kind":"file","path":"/nonexistent/a"}\n{"kind":"fi',
      {
        flag: "w",
      },
    );
    expect(openJournal(state, "sbx-rec-3").resources()).toEqual([
      { kind: "file", path: "/nonexistent/a" },
    ]);
  });

  it("gc keeps sandboxes whose runner is alive and removes those whose runner is dead", async () => {
    const state = stateDir();
    createJournal(state, "sbx-live");
    const dead = createJournal(state, "sbx-dead");
    // A dead owner: pid 1's start time will never match this.
    writeFileSync(
      path.join(dead.dir, "owner.json"),
      JSON.stringify({ pid: 999999, startTime: "1", createdAt: "" }),
    );
    expect(listSandboxes(state).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: "sbx-dead", ownerAlive: false },
      { id: "sbx-live", ownerAlive: true },
    ]);
    const report = await collectGarbage(state);
    expect(report).toEqual({ removed: ["sbx-dead"], skippedLive: ["sbx-live"], failures: [] });
    expect((await collectGarbage(state, { all: true })).removed).toEqual(["sbx-live"]);
  });

  it.skipIf(!isRoot)("removes a recorded cgroup and kills what is still in it", async () => {
    const state = stateDir();
    const journal = createJournal(state, "sbx-rec-cg");
    const layout = cgroupLayout("/sys/fs/cgroup", "sbx-rec-cg");
    for (const d of layout.dirs) journal.record({ kind: "cgroup", path: d });
    createCgroup(layout, { cpus: 1, memoryBytes: 256 * 2 ** 20, pids: 16 });
    const child = spawn("sh", [
      "-c",
      `for d in ${layout.dirs.join(" ")}; do echo $$ > $d/cgroup.procs; done; exec sleep 600`,
    ]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await removeAll(journal)).toEqual([]);
    for (const d of layout.dirs) expect(existsSync(d)).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(child.pid!)).toBe(false);
  });
});
