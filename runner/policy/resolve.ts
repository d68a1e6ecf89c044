/**
 * What the rest of the product calls: a resolved policy or ceilings, or one SandboxedError that
 * carries every error finding. Warnings do not stop a policy from loading.
 */
import { SandboxedError } from "../errors/index.js";
import { lintPolicyFile } from "./lint.js";
import type { LoadOptions } from "./load.js";
import type { Finding, ResolvedCeilings, ResolvedPolicy } from "./types.js";

export class PolicyError extends SandboxedError {
  readonly findings: readonly Finding[];
  constructor(file: string, findings: readonly Finding[]) {
    const errors = findings.filter((f) => f.severity === "error");
    const first = errors[0];
    super(
      "SBX_POLICY_INVALID",
      `${file}: ${errors.length} error${errors.length === 1 ? "" : "s"}\n` +
        errors.map((f) => `  ${f.file}:${f.line}:${f.col} ${f.rule} ${f.message}`).join("\n"),
      {
        hint: first?.hint ?? `run: sandboxed policy lint ${file}`,
        ...(first ? { source: { file: first.file, line: first.line, col: first.col } } : {}),
      },
    );
    this.findings = findings;
  }
}

export function loadPolicy(
  file: string,
  options: LoadOptions & { ceilings?: ResolvedCeilings },
): { policy: ResolvedPolicy; findings: readonly Finding[] } {
  const result = lintPolicyFile(file, options);
  if (result.resolved?.kind === "Policy")
    return { policy: result.resolved, findings: result.findings };
  if (result.resolved) {
    throw new SandboxedError("SBX_POLICY_KIND", `${file} is a Ceilings file, not a Policy`, {
      hint: "pass it with --ceilings, and give a file with kind: Policy as the policy",
    });
  }
  throw new PolicyError(file, result.findings);
}

export function loadCeilings(file: string, options: LoadOptions): ResolvedCeilings {
  const result = lintPolicyFile(file, options);
  if (result.resolved?.kind === "Ceilings") return result.resolved;
  if (result.resolved) {
    throw new SandboxedError("SBX_POLICY_KIND", `${file} is a Policy file, not Ceilings`, {
      hint: "write kind: Ceilings in the ceilings file",
    });
  }
  throw new PolicyError(file, result.findings);
}
