/** The QEMU microvm backend and its guest templates. */
export { createVmSandbox } from "./vm-sandbox.js";
export { vmmOverheadBytes } from "./breach.js";
export type { VmSandboxOptions } from "./vm-sandbox.js";
export { buildTemplate, findTemplate } from "./template-build.js";
export type { TemplateBuildOptions, TemplateBuildResult } from "./template-build.js";
export type { VmTemplate } from "./template.js";
export { accelCacheFile, cachedAccel, detectAccel } from "./accel.js";
export type { Accel } from "./qemu-args.js";
export { qemuArgs, kernelCommandLine, QEMU_SANDBOX } from "./qemu-args.js";
export { jailScript, UID_BASE } from "./jail.js";
export { ensureRunnerTemplate, listRunnerTemplates } from "./runner-layer.js";
export type { RunnerTemplate, RunnerTemplateOptions } from "./runner-layer.js";
export {
  GUEST_HOOKS_DIR,
  RUNNER_HOOK_ENV,
  RUNNER_PIN_FILE,
  runnerGuestDir,
  runnerTemplateName,
} from "./runner-layer-plan.js";
export type { RunnerLayerManifest, RunnerPin } from "./runner-layer-plan.js";
