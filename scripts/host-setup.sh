#!/bin/sh
# Installs the Debian packages sandboxes need, when missing. Idempotent and quick when done.
# Run as root on Debian 12 (npm test and npm start call it).
set -eu
PKGS="qemu-system-x86 qemu-utils mmdebstrap e2fsprogs busybox-static util-linux iproute2 nftables"
missing=""
for p in $PKGS; do
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
fi
# The container backend's Docker daemon (docker.io, runsc) is scripts/dockerd.sh's job, not this one's.
