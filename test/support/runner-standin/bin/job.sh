# shellcheck shell=bash
# STAND-IN runner (see STANDIN-NOT-THE-OFFICIAL-RUNNER): running one job.
#
# Like the official runner: the job-started hook, then the job's script under
# `bash --noprofile --norc -eo pipefail`, then the job-completed hook, all into the job's log;
# a hook that fails fails the job. The log is posted to the server once a second (new bytes or
# none) and once more at the end. If the server answers 410 (job cancelled or runner deleted),
# the script's process group is stopped and the reason left in $STANDIN_TMP/gone.

# upload_loop JOB_ID LOG_FILE DONE_MARKER: posts the log's new bytes until DONE_MARKER exists.
upload_loop() {
  local sent=0 size code finished failures=0 tick=0
  while :; do
    finished=0
    [[ -e $3 ]] && finished=1
    size="$(wc -c <"$2")"
    # Post once a second even when nothing is new: the answer is how a cancelled job or a
    # deleted runner reaches us (the official runner learns it by renewing its job lock).
    if ((finished ? size > sent : tick % 5 == 0)); then
      code="$(tail -c "+$((sent + 1))" "$2" | head -c "$((size - sent))" | post_log "$1")"
      case "$code" in
        200) sent="$size" failures=0 ;;
        410)
          gone_reason "$STANDIN_TMP/log.reply" >"$STANDIN_TMP/gone"
          [[ -s $STANDIN_TMP/job.pid ]] && { kill -TERM -- "-$(cat "$STANDIN_TMP/job.pid")" 2>/dev/null || true; }
          return 0
          ;;
        *)
          failures=$((failures + 1))
          # At the end, give up on the log after a few tries: completion matters more.
          ((finished && failures >= 5)) && return 0
          ;;
      esac
    fi
    ((finished && size <= sent)) && return 0
    tick=$((tick + 1))
    sleep 0.2
  done
}

# run_hook NAME PATH LOG_FILE → the hook's exit status; its output goes to the log.
run_hook() {
  {
    printf 'A job %s hook has been configured by the self-hosted runner administrator\n' "$1"
    printf "Run '%s'\n" "$2"
  } >>"$3"
  if [[ $2 == *.sh ]]; then
    bash -e "$2" >>"$3" 2>&1
  else
    "$2" >>"$3" 2>&1
  fi
}

# run_job JOB_JSON_FILE → sets JOB_CONCLUSION (success|failure|cancelled) and JOB_GONE.
run_job() {
  local job="$1" log="$STANDIN_TMP/job.log" done="$STANDIN_TMP/log.done" uploader status repo
  local run_id sha workflow
  IFS=$'\t' read -r JOB_ID JOB_NAME repo run_id sha workflow < <(
    jq -r '.job | [.id, .name, .repo, .runId, .headSha, .workflowName] | @tsv' "$job"
  )
  stamp "Running job: $JOB_NAME"
  local workspace="$RUNNER_ROOT/$WORK_FOLDER/${repo#*/}/${repo#*/}"
  mkdir -p "$workspace" "$STANDIN_TMP/runner-temp"
  jq -r .job.script "$job" >"$STANDIN_TMP/script.sh"
  : >"$log"
  rm -f "$done" "$STANDIN_TMP/gone" "$STANDIN_TMP/job.pid"

  upload_loop "$JOB_ID" "$log" "$done" &
  uploader=$!

  export GITHUB_ACTIONS=true CI=true RUNNER_OS=Linux RUNNER_ARCH=X64
  export RUNNER_NAME="$AGENT_NAME" RUNNER_TEMP="$STANDIN_TMP/runner-temp"
  export RUNNER_WORKSPACE="$RUNNER_ROOT/$WORK_FOLDER/${repo#*/}" GITHUB_WORKSPACE="$workspace"
  export GITHUB_REPOSITORY="$repo" GITHUB_REPOSITORY_OWNER="${repo%%/*}"
  export GITHUB_RUN_ID="$run_id" GITHUB_SHA="$sha" GITHUB_WORKFLOW="$workflow" GITHUB_JOB="$JOB_NAME"

  JOB_CONCLUSION=success
  if [[ -n ${ACTIONS_RUNNER_HOOK_JOB_STARTED:-} ]]; then
    run_hook started "$ACTIONS_RUNNER_HOOK_JOB_STARTED" "$log" || JOB_CONCLUSION=failure
  fi
  if [[ $JOB_CONCLUSION == success ]]; then
    printf 'Run %s\n' "$JOB_NAME" >>"$log"
    # A process group of its own (job control is on in run.sh), so a cancel stops its children.
    (cd "$workspace" && exec bash --noprofile --norc -eo pipefail "$STANDIN_TMP/script.sh") \
      >>"$log" 2>&1 </dev/null &
    printf '%s' "$!" >"$STANDIN_TMP/job.pid"
    status=0
    wait "$!" || status=$?
    if ((status != 0)); then
      printf 'Error: Process completed with exit code %s.\n' "$status" >>"$log"
      JOB_CONCLUSION=failure
    fi
  fi
  JOB_GONE="$(cat "$STANDIN_TMP/gone" 2>/dev/null || true)"
  if [[ -z $JOB_GONE && -n ${ACTIONS_RUNNER_HOOK_JOB_COMPLETED:-} ]]; then
    run_hook completed "$ACTIONS_RUNNER_HOOK_JOB_COMPLETED" "$log" || JOB_CONCLUSION=failure
  fi
  : >"$done"
  wait "$uploader" || true
  JOB_GONE="$(cat "$STANDIN_TMP/gone" 2>/dev/null || true)"
  [[ $JOB_GONE == cancelled ]] && JOB_CONCLUSION=cancelled
  return 0
}
