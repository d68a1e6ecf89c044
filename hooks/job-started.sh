#!/bin/sh
# sandboxed: ACTIONS_RUNNER_HOOK_JOB_STARTED (issue 6 §4). Installed read-only at
# /opt/sandboxed/hooks/job-started.sh by the runner layer; the actions runner runs it as the job
# user before the job's first step, and its output opens the GitHub job log ("Set up runner").
# The host passes the policy summary in SANDBOXED_POLICY_SUMMARY (plain text, several lines).
# It must never fail the job: every command tolerates failure and the script exits 0.

summary=${SANDBOXED_POLICY_SUMMARY:-"(no policy summary was given to this sandbox)"}
# The summary may name hosts a repository's policy chose: keep the runner from reading any of
# its lines as a workflow command (::stop-commands:: with a token nobody can guess).
token=$(od -An -N16 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
[ -n "$token" ] || token="sandboxed-$$-$(date +%s%N)"

echo "::group::sandboxed: this job runs in a throwaway sandbox under policy"
echo "::stop-commands::$token"
echo "sandboxed: this job runs in a throwaway sandbox under policy; the sandbox and everything"
echo "the job leaves in it are destroyed when the job ends."
printf '%s\n' "$summary"
echo "::$token::"
echo "::endgroup::"
exit 0
