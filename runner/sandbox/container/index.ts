/** The container backend: hardened runtimes (runsc, sysbox-runc) through the Docker Engine API. */
export { createContainerSandbox } from "./container-sandbox.js";
export type { ContainerSandboxOptions } from "./container-sandbox.js";
export {
  AGENT_CAPS,
  AGENT_TASKS,
  CGROUP_PARENT,
  containerSpec,
  hostPidsLimit,
  SANDBOX_LABEL,
  SUDO_CAPS,
} from "./container-spec.js";
export type { ContainerSpecInput } from "./container-spec.js";
export { connectDocker, daemonFacts, DEFAULT_DOCKER_SOCKET } from "./docker.js";
export type { DaemonFacts } from "./docker.js";
export { ensureImage, IMAGE_EXTRAS_ID, imageTag } from "./image.js";
export type { ImageSource } from "./image.js";
export {
  backendLabel,
  checkRuntimeArgs,
  chooseRuntime,
  mountsOverlay,
  rootWritable,
  RUNSC_ROOT_OVERLAY,
} from "./runtime.js";
export type { Runtime, RuntimeChoice } from "./runtime.js";
export { STATX_COMPAT_PATH } from "./statx-compat.js";
