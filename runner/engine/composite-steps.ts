/**
 * A composite action's steps in the engine's step model (workflow.ts WorkflowStep), so one step
 * runner serves workflows and actions. The parser's conversion gives id, name, if, env,
 * continue-on-error and run/uses; `with`, `shell`, `working-directory` and `timeout-minutes`
 * come from the raw token (research G3).
 */
import type { MappingToken, TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import { parseUses } from "./action-ref.js";
import type { ActionMetadata, CompositeStep } from "./action-metadata.js";
import type { WorkflowStep } from "./workflow.js";

function find(token: MappingToken, key: string): TemplateToken | undefined {
  for (const { key: k, value } of token) if (k.toString() === key) return value;
  return undefined;
}

function convert(c: CompositeStep): WorkflowStep {
  const step = c.step as unknown as {
    id: string;
    name?: TemplateToken;
    if?: { expression?: string; toString(): string };
    env?: TemplateToken;
    "continue-on-error"?: boolean | TemplateToken;
    run?: TemplateToken;
  };
  const timeout = find(c.token, "timeout-minutes");
  const common = {
    id: step.id,
    name: step.name as never,
    if: step.if?.expression ?? "success()",
    env: step.env ?? find(c.token, "env"),
    continueOnError: step["continue-on-error"] ?? false,
    timeoutMinutes: timeout === undefined ? undefined : Number(timeout.toString()) || timeout,
    source: c.source,
  };
  if (c.uses) {
    const action = parseUses(c.uses.value, c.uses.source);
    return { ...common, kind: "uses", uses: c.uses.value, action, with: find(c.token, "with") };
  }
  return {
    ...common,
    kind: "run",
    run: (step.run ?? find(c.token, "run")) as never,
    shell: find(c.token, "shell"),
    workingDirectory: find(c.token, "working-directory"),
  };
}

export function compositeSteps(metadata: ActionMetadata): WorkflowStep[] {
  return metadata.runs.using === "composite" ? metadata.runs.steps.map(convert) : [];
}
