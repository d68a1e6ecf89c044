/**
 * The workflow engine: GitHub Actions semantics on top of @actions/workflow-parser and
 * @actions/expressions, driving one sandbox per job (issue 5).
 */
export {};
