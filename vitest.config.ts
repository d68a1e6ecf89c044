import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One file at a time: the integration suites boot VMs under TCG and share the test network
    // world; on a 2-core CI host, running them side by side only makes each slower.
    fileParallelism: false,
    // Integration tests boot real guests; a slow TCG boot is not a failure.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // @actions/workflow-parser imports its JSON schemas without an import attribute, which Node
    // refuses (research G10): each worker registers the CLI's load hook first.
    setupFiles: ["test/support/json-imports.ts"],
  },
});
