import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests boot real guests; a slow TCG boot is not a failure.
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
