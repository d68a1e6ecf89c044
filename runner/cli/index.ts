/** CLI area: the `sandboxed` command and the GitHub Action entry point. */
export { main } from "./main.js";
export type { Io } from "./main.js";
