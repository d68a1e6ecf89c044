/** What the route files share (internal to the emulator). */
import type { Authenticator } from "./auth.js";
import type { RunnerRecord, State } from "./state.js";
import type { Shapes } from "./shapes.js";
import type { Webhooks } from "./webhooks.js";
import type { EmulatorOptions } from "./types.js";

export interface EmulatorContext {
  readonly options: EmulatorOptions;
  readonly state: State;
  readonly shapes: Shapes;
  readonly auth: Authenticator;
  readonly webhooks: Webhooks;
  /** The REST base URL. */
  readonly apiUrl: () => string;
  /** The encoded JIT config handed out for a new runner. */
  readonly jitConfig: (runner: RunnerRecord) => Promise<string>;
}
