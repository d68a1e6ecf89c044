import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { allocateNetSlot, netSlotDir } from "../../runner/network/net-slots.js";

const dirs: string[] = [];
const stateDir = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), "sbx-slots-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("allocateNetSlot", () => {
  it("records each lock before creating it and hands out distinct slots", () => {
    const dir = stateDir();
    const recorded: string[] = [];
    const record = (_slot: number, lock: string) => {
      expect(existsSync(lock)).toBe(false); // recorded first, created after
      recorded.push(lock);
    };
    expect([allocateNetSlot(dir, record), allocateNetSlot(dir, record)]).toEqual([0, 1]);
    expect(recorded).toEqual([path.join(netSlotDir(dir), "0"), path.join(netSlotDir(dir), "1")]);
  });

  it("reuses a freed slot", () => {
    const dir = stateDir();
    allocateNetSlot(dir, () => {});
    allocateNetSlot(dir, () => {});
    rmSync(path.join(netSlotDir(dir), "0"));
    expect(allocateNetSlot(dir, () => {})).toBe(0);
  });
});
