#!/usr/bin/env bash
# A STAND-IN FOR THE OFFICIAL GITHUB ACTIONS RUNNER, for sandboxed's tests only (see
# STANDIN-NOT-THE-OFFICIAL-RUNNER beside this file). It takes the official runner's arguments
# and JIT blob, and speaks to the GitHub emulator (test/support/github-emulator) in place of
# GitHub's broker:
#
#   run.sh --jitconfig <encoded_jit_config>     or   ACTIONS_RUNNER_INPUT_JITCONFIG=<…> run.sh
#
# 1. decodes and checks the blob (exit 1 with an error and a hint when it is wrong);
# 2. polls POST <serverUrl>/_runner/acquire once a second until it gets a job
#    (410: the runner was deleted → exit 3; 401: the blob's credentials are refused → exit 1;
#    no answer 120 times in a row → exit 4);
# 3. runs ACTIONS_RUNNER_HOOK_JOB_STARTED, the job's script (bash), and
#    ACTIONS_RUNNER_HOOK_JOB_COMPLETED, streaming the log to the server;
# 4. reports the conclusion and exits 0 (also when the job failed or was cancelled, as the
#    official ephemeral runner does); exit 3 if the runner was deleted during the job.
#
# Environment: http_proxy/https_proxy/no_proxy (curl's own), the two hook variables, and
# STANDIN_POLL_SECONDS (default 1).
set -euo pipefail
set -m # job control: the job's script runs in a process group of its own

RUNNER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bin/jitconfig.sh
source "$RUNNER_ROOT/bin/jitconfig.sh"
# shellcheck source=bin/protocol.sh
source "$RUNNER_ROOT/bin/protocol.sh"
# shellcheck source=bin/job.sh
source "$RUNNER_ROOT/bin/job.sh"

stamp() { printf '%s: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%SZ')" "$1"; }

blob="${ACTIONS_RUNNER_INPUT_JITCONFIG:-}"
# The blob is a secret: keep it out of the environment of hooks and jobs.
unset ACTIONS_RUNNER_INPUT_JITCONFIG
while (($# > 0)); do
  case "$1" in
    --jitconfig)
      (($# >= 2)) || die "--jitconfig needs a value" "run.sh --jitconfig <encoded_jit_config>"
      blob="$2"
      shift 2
      ;;
    --jitconfig=*) blob="${1#--jitconfig=}" && shift ;;
    *) die "unknown argument: $1" "this stand-in only takes --jitconfig <encoded_jit_config>" ;;
  esac
done
[[ -n $blob ]] || die "no JIT config given" \
  "run.sh --jitconfig <encoded_jit_config>, or set ACTIONS_RUNNER_INPUT_JITCONFIG"
decode_jitconfig "$blob"
unset blob

STANDIN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/standin-runner.XXXXXX")"
cleanup() {
  local pid
  # Background jobs (the log uploader, a job's script) lead process groups of their own.
  for pid in $(jobs -p); do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  rm -rf "$STANDIN_TMP"
}
trap cleanup EXIT

echo "√ Connected to GitHub (stand-in runner, not the official one)"
echo
echo "Current runner version: '0.0.0-standin'"
stamp "Listening for Jobs"

failures=0
while :; do
  code="$(acquire "$STANDIN_TMP/acquired.json")"
  case "$code" in
    200) break ;;
    204) failures=0 ;;
    401) die "the server refused this runner's credentials (401)" \
      "generate a new JIT config; each one is for one runner, once" 1 ;;
    410)
      reason="$(gone_reason "$STANDIN_TMP/acquired.json")"
      [[ $reason == deleted ]] || exit 0
      die "Runner registration has been deleted from the server" \
        "the runner was removed on GitHub's side before it took a job" 3
      ;;
    *)
      failures=$((failures + 1))
      printf 'warning: %s/_runner/acquire answered %s (%s)\n' "$SERVER_URL" "$code" \
        "$(tail -n 1 "$STANDIN_TMP/curl.err" 2>/dev/null || true)" >&2
      ((failures < 120)) || die "cannot reach $SERVER_URL" \
        "check the sandbox's egress policy and proxy (http_proxy=${http_proxy:-unset})" 4
      ;;
  esac
  sleep "${STANDIN_POLL_SECONDS:-1}"
done

run_job "$STANDIN_TMP/acquired.json"

if [[ $JOB_GONE == deleted ]]; then
  die "Runner registration has been deleted from the server while running $JOB_NAME" \
    "the runner was removed on GitHub's side during the job" 3
fi
if [[ -z $JOB_GONE ]]; then
  for attempt in 1 2 3 4 5; do
    code="$(post_complete "$JOB_ID" "$JOB_CONCLUSION")"
    [[ $code == 200 || $code == 410 ]] && break
    printf 'warning: reporting completion answered %s (attempt %s)\n' "$code" "$attempt" >&2
    sleep 1
  done
fi
case "$JOB_CONCLUSION" in
  success) result=Succeeded ;;
  cancelled) result=Canceled ;;
  *) result=Failed ;;
esac
stamp "Job $JOB_NAME completed with result: $result"
exit 0
