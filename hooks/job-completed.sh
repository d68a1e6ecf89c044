#!/bin/sh
# sandboxed: ACTIONS_RUNNER_HOOK_JOB_COMPLETED (issue 6 §4). Installed read-only at
# /opt/sandboxed/hooks/job-completed.sh by the runner layer; the actions runner runs it as the job
# user after the job's last step, and its output closes the GitHub job log ("Complete runner").
# It prints what the sandbox refused and what the job used:
#  - egress: the sandbox's own egress proxy answers GET http://sandboxed.internal/egress itself
#    with this sandbox's decisions (never forwarded; docs/network.md), asked through $http_proxy;
#  - resources: the job cgroup's memory.peak (and OOM kills), when readable.
# It must never fail the job: every command tolerates failure and the script exits 0.

proxy=${http_proxy:-${HTTP_PROXY:-}}
# Host names below were chosen by the job: keep the runner from reading any line as a workflow
# command (::stop-commands:: with a token nobody can guess).
token=$(od -An -N16 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
[ -n "$token" ] || token="sandboxed-$$-$(date +%s%N)"

echo "::group::sandboxed: egress and resources of this job"
echo "::stop-commands::$token"

if [ -z "$proxy" ]; then
  echo "egress: none (this sandbox has no network)"
elif ! command -v curl >/dev/null 2>&1; then
  echo "egress: curl is not in this template; the summary is in the job's log on the host"
else
  egress=$(curl -s --max-time 5 --proxy "$proxy" http://sandboxed.internal/egress 2>/dev/null) || egress=""
  if [ -n "$egress" ]; then
    printf '%s\n' "$egress"
  else
    echo "egress: the proxy did not answer; the decisions are in the job's log on the host"
  fi
fi

# The job's cgroup: this process's own (cgroup v2: the "0::" line), else the agent's job group.
cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null) || cgroup=""
for dir in "/sys/fs/cgroup$cgroup" /sys/fs/cgroup/job; do
  if [ -r "$dir/memory.peak" ]; then
    peak=$(cat "$dir/memory.peak" 2>/dev/null) || peak=""
    max=$(cat "$dir/memory.max" 2>/dev/null) || max=""
    case "$peak" in
      '' | *[!0-9]*) ;;
      *)
        line="memory: peak $((peak / 1048576)) MiB"
        case "$max" in '' | max | *[!0-9]*) ;; *) line="$line of $((max / 1048576)) MiB" ;; esac
        echo "$line"
        ;;
    esac
    ooms=$(sed -n 's/^oom_kill //p' "$dir/memory.events" 2>/dev/null) || ooms=""
    case "$ooms" in '' | 0 | *[!0-9]*) ;; *) echo "memory: $ooms process(es) killed at the limit (OOM)" ;; esac
    break
  fi
done

echo "::$token::"
echo "::endgroup::"
exit 0
