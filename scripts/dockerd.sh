#!/bin/sh
# Starts sandboxed's own Docker daemon for the container backend (issue 7), when it is not running.
# Idempotent, and quick when the daemon already answers. Run as root on Debian 12; tests and
# `--backend container` call it. docs/operations.md#container-backend-the-docker-daemon says why
# each setting is what it is.
#
# The daemon is dedicated: its own socket, data-root, exec-root and pidfile, so it coexists with
# any other dockerd on the host (a job's, or the distribution's) and never touches their state.
# It starts its own containerd under its exec-root, so the containerd sockets do not collide either.
#
# Env: SANDBOXED_DOCKER_SOCKET overrides the socket path (default /run/sandboxed/docker.sock);
# every other path is fixed.
set -eu
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

SOCKET="${SANDBOXED_DOCKER_SOCKET:-/run/sandboxed/docker.sock}"
CONFIG_DIR=/etc/sandboxed/docker
CONFIG="$CONFIG_DIR/daemon.json"
DATA_ROOT=/var/lib/sandboxed/docker
EXEC_ROOT=/run/sandboxed/docker-exec
PIDFILE=/run/sandboxed/dockerd.pid
LOG=/var/log/sandboxed-dockerd.log
WAIT_SECONDS=60

ping() {
  curl -fsS --max-time 2 --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1
}

fail() {
  echo "sandboxed: $1" >&2
  if [ -f "$LOG" ]; then
    echo "sandboxed: last lines of $LOG:" >&2
    tail -n 25 "$LOG" >&2
  fi
  exit 1
}

# One run at a time (parallel test files call this together): a second run waits, then finds the
# daemon answering. dockerd must not inherit the lock's descriptor (9>&- below).
if [ "$(id -u)" = 0 ]; then
  mkdir -p /run/sandboxed
  exec 9>/run/sandboxed/dockerd.lock
  flock -w 600 9 || fail "another scripts/dockerd.sh has held /run/sandboxed/dockerd.lock for 10 minutes"
fi

# 1. Packages. curl is for the /_ping probe; docker.io brings containerd, runc and docker-init;
# gcc and libc6-dev build the image's statx compatibility library (runner/sandbox/container/statx-compat.ts).
missing=""
for p in docker.io runsc curl gcc libc6-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "sandboxed: missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
  fi
  echo "sandboxed: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  # The docker.io package enables and starts the distribution's daemon where systemd runs; that
  # daemon is not ours and sandboxed never uses its socket.
fi

# 2. The config. runsc gets --network=host: each container's network namespace is the sandbox's
# own (a veth moved in after start, egress enforced outside by nftables), and gVisor's own
# netstack would not see an interface that arrives late. --oci-seccomp: Docker's default seccomp
# profile applies inside gVisor too (no unshare, mount or keyctl without the capability).
# sysbox-runc only where it is installed.
runtimes='"runsc": { "path": "/usr/bin/runsc", "runtimeArgs": ["--network=host", "--oci-seccomp", "--overlay2=root:memory"] }'
if [ -x /usr/bin/sysbox-runc ]; then
  runtimes="$runtimes,
    \"sysbox-runc\": { \"path\": \"/usr/bin/sysbox-runc\" }"
fi
mkdir -p "$CONFIG_DIR" "$(dirname "$SOCKET")" "$DATA_ROOT" "$EXEC_ROOT" "$(dirname "$PIDFILE")"
cat >"$CONFIG.new" <<EOF
{
  "runtimes": {
    $runtimes
  },
  "iptables": false,
  "ip-masq": false,
  "ip-forward": false,
  "bridge": "none",
  "storage-driver": "overlay2",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "hosts": ["unix://$SOCKET"],
  "data-root": "$DATA_ROOT",
  "exec-root": "$EXEC_ROOT",
  "pidfile": "$PIDFILE"
}
EOF
changed=no
if cmp -s "$CONFIG.new" "$CONFIG"; then
  rm -f "$CONFIG.new"
else
  mv "$CONFIG.new" "$CONFIG"
  changed=yes
fi

# 3. Already running: done. A changed config (sysbox installed since) is applied with SIGHUP,
# which makes dockerd reload its runtimes.
if ping; then
  if [ "$changed" = yes ] && [ -s "$PIDFILE" ]; then
    kill -HUP "$(cat "$PIDFILE")" && echo "sandboxed: $CONFIG changed; dockerd reloaded it" >&2
  fi
  exit 0
fi
[ "$(id -u)" = 0 ] || fail "dockerd is not answering on $SOCKET, and only root can start it (sudo sh $0)"

# 4. Start it, unless a dockerd from our pidfile is still starting up. setsid + nohup: it must
# outlive the shell, test runner or service that called this script; every stdio goes to the log
# so no caller waits on a pipe it holds.
pid=""
if [ -s "$PIDFILE" ] && grep -q dockerd "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null; then
  pid="$(cat "$PIDFILE")"
else
  command -v dockerd >/dev/null || fail "dockerd not found in $PATH (apt-get install docker.io)"
  echo "sandboxed: starting dockerd on $SOCKET (log: $LOG)" >&2
  setsid nohup dockerd --config-file "$CONFIG" </dev/null >>"$LOG" 2>&1 9>&- &
  pid=$!
fi

i=0
while [ "$i" -lt $((WAIT_SECONDS * 2)) ]; do
  ping && exit 0
  kill -0 "$pid" 2>/dev/null || fail "dockerd (pid $pid) exited before answering on $SOCKET"
  sleep 0.5
  i=$((i + 1))
done
fail "dockerd (pid $pid) did not answer GET /_ping on $SOCKET within ${WAIT_SECONDS}s"
