/**
 * Guest templates: a YAML definition in vm-templates/, built by vm-templates/build.sh from
 * Debian's packages with mmdebstrap, and cached under `<state>/templates/<name>/<hash>/` by the
 * content hash of everything that goes into it (definition, build script, init, agent, Node).
 * A changed definition gets a new hash and a rebuild; an unchanged one is reused.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { SandboxedError } from "../../errors/index.js";

export interface VmTemplate {
  readonly name: string;
  readonly hash: string;
  readonly dir: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly rootImage: string;
  readonly user: { readonly name: string; readonly uid: number; readonly gid: number };
}

export const templateDefinitionSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  description: z.string().optional(),
  suite: z.string().regex(/^[a-z]+$/),
  mirror: z.string().url(),
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/)).min(1),
  user: z.strictObject({
    name: z.string().regex(/^[a-z_][a-z0-9_-]*$/),
    uid: z.number().int().min(1000).max(60000),
  }),
  node: z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+$/),
});
export type TemplateDefinition = z.infer<typeof templateDefinitionSchema>;

export function loadTemplateDefinition(file: string): {
  definition: TemplateDefinition;
  text: string;
} {
  if (!existsSync(file)) {
    throw new SandboxedError("SBX_TEMPLATE_UNKNOWN", `no template definition at ${file}`, {
      hint: "use a name of a file in vm-templates/ (minimal, default)",
    });
  }
  const text = readFileSync(file, "utf8");
  const definition = parseTemplateYaml(
    text,
    file,
    templateDefinitionSchema,
    "see vm-templates/minimal.yml for a valid definition",
  );
  return { definition, text };
}

/**
 * A YAML file of vm-templates/, checked against its schema: SBX_TEMPLATE_INVALID for bad syntax,
 * or naming the first key that does not fit (`hint` says what a valid file looks like).
 */
export function parseTemplateYaml<T>(
  text: string,
  file: string,
  schema: z.ZodType<T>,
  hint: string,
): T {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new SandboxedError("SBX_TEMPLATE_INVALID", `${file}: ${(error as Error).message}`, {
      hint: "fix the YAML syntax",
    });
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new SandboxedError(
      "SBX_TEMPLATE_INVALID",
      `${file}: ${issue.path.join(".") || "(top)"}: ${issue.message}`,
      { hint },
    );
  }
  return result.data;
}

/** The cache key: every input of the build, hashed. */
export function templateHash(parts: readonly (string | Uint8Array)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    hash.update(String(part.length));
    hash.update(":");
    hash.update(part);
  }
  return hash.digest("hex").slice(0, 16);
}

export function templatePaths(
  stateDir: string,
  name: string,
  hash: string,
): { dir: string; partial: string } {
  const dir = path.join(stateDir, "templates", name, hash);
  return { dir, partial: `${dir}.partial` };
}

export function templateAt(dir: string, definition: TemplateDefinition, hash: string): VmTemplate {
  return {
    name: definition.name,
    hash,
    dir,
    kernel: path.join(dir, "vmlinux"),
    initrd: path.join(dir, "initramfs.cpio"),
    rootImage: path.join(dir, "root.ext4"),
    user: { name: definition.user.name, uid: definition.user.uid, gid: definition.user.uid },
  };
}
