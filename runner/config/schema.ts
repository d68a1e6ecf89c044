/**
 * The service config format (`sandboxed.yml` for `sandboxed serve`), defined once here (STYLE
 * H8): strict objects, so an unknown key is an error with a suggested key. Single values are
 * checked by the named checks in values.ts; rules across keys (exactly one of app or token, label
 * sets that differ) are in checks.ts. Defaults are filled by load.ts, not here, so "unset" stays
 * visible to the checks.
 */
import { z } from "zod";
import { API_VERSION } from "../policy/index.js";
import { CHECKS } from "./values.js";
import type { CheckName } from "./values.js";

export { API_VERSION };
export const CONFIG_KIND = "ServiceConfig";
export const BACKENDS = ["vm", "container"] as const;

const checked = (check: CheckName) =>
  z.string().refine((v) => CHECKS[check](v).ok, { params: { check } });

const file = checked("filePath").describe("A file or folder, relative to this config file.");
const duration = checked("duration").describe("A duration: whole d, h, m and s, e.g. 5m or 14d.");
const size = checked("size").describe("A size: a whole number with KiB, MiB, GiB or TiB.");
const listen = checked("listen").describe("host:port, [v6]:port or unix:/absolute/path.");
const id = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const labelSetSchema = z.strictObject({
  name: checked("slug").describe("Short name, used in runner names and logs."),
  labels: z.array(checked("label")).min(1).describe("The runs-on labels these runners take."),
  policy: file.describe("Policy file for jobs on these runners."),
  template: checked("slug").optional().describe("VM template name. Default: default."),
  backend: z.enum(BACKENDS).optional().describe("vm or container. Default: vm."),
  repoPolicy: z
    .boolean()
    .optional()
    .describe("Also read .github/sandbox-policy.yml from the default branch. Default: false."),
});

export const serviceConfigSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION).describe(`Format version. Always ${API_VERSION}.`),
    kind: z.literal(CONFIG_KIND).describe("Always ServiceConfig."),
    github: z.strictObject({
      apiUrl: checked("apiUrl")
        .optional()
        .describe("REST API root. Default: https://api.github.com."),
      app: z
        .strictObject({
          id: id.describe("The GitHub App's id."),
          privateKeyFile: file.describe("The App's private key (PEM), mode 600."),
          installationId: id.optional().describe("Looked up from the scope when absent."),
        })
        .optional(),
      token: z
        .strictObject({ file: file.describe("A file holding the token, mode 600.") })
        .optional(),
    }),
    scope: z.strictObject({
      repositories: z.array(checked("repository")).min(1).optional(),
      organization: checked("organization").optional(),
    }),
    runnerGroupId: id.optional().describe("Organization runner group. Default: 1 (Default)."),
    labelSets: z.array(labelSetSchema).min(1),
    ceilings: file.optional().describe("A kind: Ceilings file bounding every policy."),
    capacity: z
      .strictObject({
        sandboxes: z.number().int().min(1).max(1024).optional(),
        cpus: z.number().int().min(1).max(4096).optional(),
        memory: size.optional(),
      })
      .optional(),
    webhook: z
      .strictObject({
        listen,
        path: checked("urlPath").optional().describe("Default: /webhook."),
        secretFile: file.describe("The webhook secret, mode 600."),
      })
      .optional(),
    reconcile: z.strictObject({ interval: duration.optional() }).optional(),
    idleTimeout: duration.optional(),
    stateDir: file.optional(),
    logs: z.strictObject({ dir: file.optional(), retention: duration.optional() }).optional(),
    metrics: z.strictObject({ listen }).optional(),
    hooksDir: file.optional(),
    docker: z
      .strictObject({
        socket: file
          .optional()
          .describe("Default: /run/sandboxed/docker.sock (scripts/dockerd.sh)."),
      })
      .optional()
      .describe("The Docker daemon of label sets with backend: container."),
    runner: z
      .strictObject({
        tarball: file
          .optional()
          .describe("A local actions-runner tarball instead of the pinned one."),
        sha256: checked("sha256").optional().describe("Its sha256 sum; default: the pinned sum."),
      })
      .optional()
      .describe(
        "The GitHub Actions runner put into the templates (vm-templates/actions-runner.yml).",
      ),
  })
  .describe("The sandboxed serve service config.");

export type ServiceConfigInput = z.infer<typeof serviceConfigSchema>;
