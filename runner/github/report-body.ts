/**
 * The request bodies that put a job's outcome on GitHub (pure): a completed check run as an App,
 * a commit status with a token. GitHub's limits applied here: a check run's summary holds 65535
 * characters, and one request carries at most 50 annotations (more go in PATCH requests).
 */
import type { Annotation, JobConclusion, JobReport } from "./types.js";

export const MAX_SUMMARY_CHARS = 65_535;
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
/** A commit status's description holds 140 characters. */
export const MAX_STATUS_DESCRIPTION_CHARS = 140;

const TRUNCATED_NOTE =
  "\n\n… cut to GitHub's 65535-character limit; `sandboxed logs <job>` on the host prints it all.";

/** `text` cut to `max` characters, never inside a surrogate pair, ending with `note`. */
export function truncate(text: string, max: number, note: string): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - note.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + note;
}

export function truncateSummary(summary: string): string {
  return truncate(summary, MAX_SUMMARY_CHARS, TRUNCATED_NOTE);
}

interface CheckRunAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: Annotation["level"];
  message: string;
  title?: string;
}

function toCheckAnnotation(annotation: Annotation): CheckRunAnnotation {
  return {
    path: annotation.path,
    start_line: annotation.startLine,
    end_line: annotation.endLine,
    annotation_level: annotation.level,
    message: annotation.message,
    ...(annotation.title === undefined ? {} : { title: annotation.title }),
  };
}

export interface CheckRunOutput {
  title: string;
  summary: string;
  annotations?: CheckRunAnnotation[];
}

export interface CheckRunBodies {
  /** POST /repos/{o}/{r}/check-runs (minus owner and repo). */
  readonly create: {
    name: string;
    head_sha: string;
    status: "completed";
    conclusion: JobConclusion;
    details_url?: string;
    output: CheckRunOutput;
  };
  /** PATCH /repos/{o}/{r}/check-runs/{id} outputs, one per further 50 annotations. */
  readonly updates: CheckRunOutput[];
}

export function checkRunBodies(headSha: string, report: JobReport): CheckRunBodies {
  const title = report.title;
  const summary = truncateSummary(report.summary);
  const annotations = (report.annotations ?? []).map(toCheckAnnotation);
  const chunks: CheckRunAnnotation[][] = [];
  for (let i = 0; i < annotations.length; i += MAX_ANNOTATIONS_PER_REQUEST) {
    chunks.push(annotations.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST));
  }
  const [first, ...rest] = chunks;
  return {
    create: {
      name: report.name,
      head_sha: headSha,
      status: "completed",
      conclusion: report.conclusion,
      ...(report.detailsUrl === undefined ? {} : { details_url: report.detailsUrl }),
      output: { title, summary, ...(first === undefined ? {} : { annotations: first }) },
    },
    updates: rest.map((chunk) => ({ title, summary, annotations: chunk })),
  };
}

/** A status has no "cancelled"; "error" is its word for "did not finish". */
const STATUS_STATES = { success: "success", failure: "failure", cancelled: "error" } as const;

export interface StatusBody {
  state: (typeof STATUS_STATES)[JobConclusion];
  context: string;
  description: string;
  target_url?: string;
}

/** POST /repos/{o}/{r}/statuses/{sha} (minus owner, repo and sha): only the title fits. */
export function statusBody(report: JobReport): StatusBody {
  return {
    state: STATUS_STATES[report.conclusion],
    context: report.name,
    description: truncate(report.title, MAX_STATUS_DESCRIPTION_CHARS, "…"),
    ...(report.detailsUrl === undefined ? {} : { target_url: report.detailsUrl }),
  };
}
