/**
 * Host capacity: at most `sandboxes` jobs at once (p-limit, first come first served), and the
 * policies of the running jobs may not add up to more CPUs or memory than the host gives us.
 * A job whose policy alone exceeds the host can never start: `fits` says so up front.
 */
import pLimit from "p-limit";

export interface Need {
  readonly cpus: number;
  readonly memoryBytes: number;
}

export interface Capacity {
  /** Run fn in a sandbox slot; `need` is known only inside the slot (the policy is read there). */
  run<T>(fn: (reserve: (need: Need) => Promise<() => void>) => Promise<T>): Promise<T>;
  fits(need: Need): boolean;
  readonly active: () => number;
  readonly pending: () => number;
}

export function createCapacity(limits: {
  readonly sandboxes: number;
  readonly cpus: number;
  readonly memoryBytes: number;
}): Capacity {
  const limit = pLimit(limits.sandboxes);
  let cpus = 0;
  let memory = 0;
  const waiters: { need: Need; wake: () => void }[] = [];
  const fits = (need: Need): boolean =>
    need.cpus <= limits.cpus && need.memoryBytes <= limits.memoryBytes;
  const free = (need: Need): boolean =>
    cpus + need.cpus <= limits.cpus && memory + need.memoryBytes <= limits.memoryBytes;
  const wakeNext = (): void => {
    while (waiters.length > 0 && free(waiters[0]!.need)) waiters.shift()!.wake();
  };
  const reserve = async (need: Need): Promise<() => void> => {
    if (!fits(need)) throw new Error("need exceeds the host's capacity");
    if (waiters.length > 0 || !free(need)) {
      await new Promise<void>((wake) => waiters.push({ need, wake }));
    }
    cpus += need.cpus;
    memory += need.memoryBytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      cpus -= need.cpus;
      memory -= need.memoryBytes;
      wakeNext();
    };
  };
  return {
    run: (fn) => limit(() => fn(reserve)),
    fits,
    active: () => limit.activeCount,
    pending: () => limit.pendingCount,
  };
}
