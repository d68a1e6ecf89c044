/** Sizes for people: 53MiB, 1.2GiB (not the policy's exact normal form, which formatSize gives). */
export function approxSize(bytes: number | undefined): string {
  if (bytes === undefined) return "n/a";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 100 || i === 0 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)}${units[i]}`;
}
