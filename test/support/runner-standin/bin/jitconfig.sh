# shellcheck shell=bash
# STAND-IN runner (see STANDIN-NOT-THE-OFFICIAL-RUNNER): decoding and checking the JIT blob.
#
# The blob has the official runner's format: base64(JSON{".runner", ".credentials",
# ".credentials_rsaparams"}), each value base64(JSON) of the file the runner would write.
# decode_jitconfig sets (not exported, so jobs and hooks never see them):
#   AGENT_ID AGENT_NAME SERVER_URL WORK_FOLDER CREDENTIALS_JSON RUNNER_TOKEN

die() {
  printf 'error: %s\n' "$1" >&2
  [[ -n ${2:-} ]] && printf 'hint: %s\n' "$2" >&2
  exit "${3:-1}"
}

# b64json ENCODED NAME → the decoded text of one part, or dies naming it.
b64json() {
  [[ -n $1 ]] || die "the JIT config has no \"$2\"" "$HINT"
  printf '%s' "$1" | base64 -d 2>/dev/null || die "the JIT config's \"$2\" is not base64" "$HINT"
}

HINT="pass the runner's encoded_jit_config (POST …/actions/runners/generate-jitconfig) unchanged"

# Few jq runs on purpose: each costs tens of milliseconds in a small guest.
decode_jitconfig() {
  local outer parts runner rsa fields
  [[ -n $1 ]] || die "the JIT config is empty" "$HINT"
  outer="$(printf '%s' "$1" | base64 -d 2>/dev/null)" || die "the JIT config is not base64" "$HINT"
  parts="$(jq -r 'if type == "object" then [.[".runner"], .[".credentials"], .[".credentials_rsaparams"]]
                  | map(if type == "string" then . else "" end) | .[] else error("not an object") end' \
    2>/dev/null <<<"$outer")" || die "the JIT config is not base64 of a JSON object" "$HINT"
  local -a part
  mapfile -t part <<<"$parts"

  runner="$(b64json "${part[0]:-}" .runner)" || exit 1
  fields="$(jq -r 'if (.agentId | type == "number") and (.agentName | type == "string")
                     and (.serverUrl | type == "string" and test("^https?://"))
                   then [.agentId, .agentName, (.serverUrl | sub("/+$"; "")), (.workFolder // "_work")] | @tsv
                   else error("bad") end' 2>/dev/null <<<"$runner")" ||
    die "the JIT config's .runner needs agentId (number), agentName and an http(s) serverUrl" "$HINT"
  IFS=$'\t' read -r AGENT_ID AGENT_NAME SERVER_URL WORK_FOLDER <<<"$fields"

  CREDENTIALS_JSON="$(b64json "${part[1]:-}" .credentials)" || exit 1
  RUNNER_TOKEN="$(jq -r 'if .scheme == "OAuth" and (.data.token | type == "string" and length > 0)
                         then .data.token else error("bad") end' 2>/dev/null <<<"$CREDENTIALS_JSON")" ||
    die "the JIT config's .credentials must be OAuth with a token" "$HINT"

  rsa="$(b64json "${part[2]:-}" .credentials_rsaparams)" || exit 1
  jq -e '(.modulus | type == "string") and (.exponent | type == "string")' >/dev/null 2>&1 <<<"$rsa" ||
    die "the JIT config's .credentials_rsaparams lacks modulus/exponent" "$HINT"
}
