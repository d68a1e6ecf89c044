# shellcheck shell=bash
# STAND-IN runner (see STANDIN-NOT-THE-OFFICIAL-RUNNER): the emulator's /_runner/ protocol.
#
# curl only, plain http(s) to the blob's serverUrl; curl itself honours http_proxy,
# https_proxy and no_proxy, which is how a guest reaches the emulator through its sandbox's
# egress proxy. The runner's token travels in request bodies (stdin) and headers read from a
# process substitution, never in argv, so `ps` in the guest does not show it.

# runner_post PATH OUT_FILE [CONTENT_TYPE] < body → prints the HTTP status ("000" = no answer).
runner_post() {
  local code
  code="$(curl -sS --max-time 30 -o "$2" -w '%{http_code}' -X POST \
    -K <(printf 'header = "Authorization: Bearer %s"\n' "$RUNNER_TOKEN") \
    -H "content-type: ${3:-application/json}" --data-binary @- \
    "$SERVER_URL$1" 2>>"$STANDIN_TMP/curl.err")" || code="${code:-000}"
  printf '%s' "${code:-000}"
}

# acquire OUT_FILE → status of POST /_runner/acquire {agentId, credentials}; the job JSON in OUT_FILE.
acquire() {
  [[ -n ${ACQUIRE_BODY:-} ]] ||
    ACQUIRE_BODY="$(printf '%s' "$CREDENTIALS_JSON" | jq -c --argjson id "$AGENT_ID" '{agentId: $id, credentials: .}')"
  printf '%s' "$ACQUIRE_BODY" | runner_post /_runner/acquire "$1"
}

# post_log JOB_ID < text → status of POST /_runner/jobs/{id}/log.
post_log() {
  runner_post "/_runner/jobs/$1/log" "$STANDIN_TMP/log.reply" "text/plain; charset=utf-8"
}

# post_complete JOB_ID CONCLUSION → status of POST /_runner/jobs/{id}/complete.
post_complete() {
  printf '{"conclusion":"%s"}' "$2" | runner_post "/_runner/jobs/$1/complete" "$STANDIN_TMP/complete.reply"
}

# gone_reason FILE → the "reason" of a 410 reply (deleted, cancelled, finished).
gone_reason() {
  jq -r '.reason // "deleted"' "$1" 2>/dev/null || printf 'deleted'
}
