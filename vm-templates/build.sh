#!/bin/bash
# Builds one guest template from Debian packages. Called by `sandboxed template build`, which
# computes the cache key and passes everything in the environment:
#   OUT SUITE MIRROR PACKAGES(comma list) USER_NAME USER_UID NODE_TGZ AGENT_JS INIT
# Produces in $OUT: vmlinuz, initramfs.cpio, root.ext4, kver. Lines starting "==> " are phases.
set -euo pipefail
: "${OUT:?}" "${SUITE:?}" "${MIRROR:?}" "${PACKAGES:?}" "${USER_NAME:?}" "${USER_UID:?}"
: "${NODE_TGZ:?}" "${AGENT_JS:?}" "${INIT:?}"
ROOT="$OUT/rootfs"
rm -rf "$ROOT"
mkdir -p "$OUT"

echo "==> mmdebstrap $SUITE: $PACKAGES"
# minbase: Essential + apt, no systemd; docs, man pages and locales are left out.
mmdebstrap --variant=minbase --mode=root --format=directory \
  --include="$PACKAGES" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --essential-hook='echo "do_symlinks = no" > "$1/etc/kernel-img.conf"' \
  --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs"' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  "$SUITE" "$ROOT" "$MIRROR" 2>&1 | sed -u 's/^/    /'

echo "==> guest agent, Node.js, job user"
install -D -m 0755 "$INIT" "$ROOT/sbin/sandboxed-init"
install -D -m 0644 "$AGENT_JS" "$ROOT/opt/sandboxed/agent.mjs"
mkdir -p "$ROOT/opt/sandboxed/node"
tar -xzf "$NODE_TGZ" -C "$ROOT/opt/sandboxed/node" --strip-components=1 package/bin/node
ln -sf /opt/sandboxed/node/bin/node "$ROOT/usr/local/bin/node"
chroot "$ROOT" useradd --create-home --uid "$USER_UID" --shell /bin/bash "$USER_NAME"
# env_keep: sudo's env_reset would drop the egress proxy, so `sudo apt-get` and `sudo curl` would
# try to go out directly, which the sandbox's nftables refuse (the container's sudo shim keeps the
# same variables).
cat > "$ROOT/etc/sudoers.d/sandboxed" <<EOF
Defaults env_keep += "HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy"
$USER_NAME ALL=(ALL:ALL) NOPASSWD: ALL
EOF
chmod 0440 "$ROOT/etc/sudoers.d/sandboxed"
# A blank machine-id: init gives every boot its own.
: > "$ROOT/etc/machine-id"
echo sandbox > "$ROOT/etc/hostname"
# The hostname resolves locally: sudo looks it up on every call, and a DNS query for it would be
# refused by the egress filter (and logged) after a wait.
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$ROOT/etc/hosts"

echo "==> kernel and initramfs"
KVER=$(ls "$ROOT/lib/modules" | head -1)
echo "$KVER" > "$OUT/kver"
cp "$ROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
# The uncompressed ELF kernel boots directly (PVH entry) and skips 3-4 s of in-guest
# decompression under TCG. Fall back to the bzImage if extraction fails.
OFF=$(grep -abo $'\xfd7zXZ\x00' "$OUT/vmlinuz" | head -1 | cut -d: -f1 || true)
if [ -n "$OFF" ] && tail -c +$((OFF + 1)) "$OUT/vmlinuz" | xz -dc > "$OUT/vmlinux" 2>/dev/null; then :; fi
if [ "$(head -c 4 "$OUT/vmlinux" 2>/dev/null | od -An -c | tr -d ' ')" != "177ELF" ]; then cp "$OUT/vmlinuz" "$OUT/vmlinux"; fi
rm -f "$ROOT"/boot/vmlinuz-* "$ROOT"/boot/initrd.img-* "$ROOT"/boot/System.map-*
# Hardware a microvm never has: keep virtio, block, char, net (virtio_net, tun) and md, drop the
# rest of drivers/ and sound/ (the tree halves; nf_tables lives in net/ and stays).
M="$ROOT/lib/modules/$KVER/kernel"
rm -rf "$M/sound"
find "$M/drivers" -mindepth 1 -maxdepth 1 ! -name virtio ! -name block ! -name char ! -name net ! -name md -exec rm -rf {} +
rm -rf "$M"/drivers/net/{wireless,ethernet,usb,can,wwan,ieee802154,hamradio,phy,fddi,arcnet,plip,slip,ppp,wan}
chroot "$ROOT" depmod "$KVER"
# A tiny initramfs: busybox and the modules needed to mount an ext4 root on virtio-mmio.
# Debian's own initrd (36 MB, udev) takes seconds longer to boot under TCG.
W="$OUT/initramfs.d"
rm -rf "$W"
mkdir -p "$W"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$ROOT/bin/busybox" "$W/bin/busybox"
MODS="virtio virtio_ring virtio_mmio virtio_blk crc16 mbcache jbd2 crc32c_generic ext4"
for m in $MODS; do
  cp "$ROOT$(chroot "$ROOT" modinfo -k "$KVER" -F filename "$m")" "$W/lib/modules/"
done
cat > "$W/init" <<INIT
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
for m in $MODS; do /bin/busybox insmod /lib/modules/\$m.ko 2>/dev/null; done
root=/dev/vda; init=/sbin/init
for a in \$(/bin/busybox cat /proc/cmdline); do
  case \$a in root=*) root=\${a#root=};; init=*) init=\${a#init=};; esac
done
i=0; while [ ! -b "\$root" ] && [ \$i -lt 500 ]; do /bin/busybox usleep 10000; i=\$((i+1)); done
/bin/busybox mount -t ext4 -o rw "\$root" /newroot || { echo "sandboxed: cannot mount \$root"; /bin/busybox poweroff -f; }
/bin/busybox mount --move /dev /newroot/dev
/bin/busybox umount /proc /sys
exec /bin/busybox switch_root /newroot "\$init"
INIT
chmod 755 "$W/init"
(cd "$W" && find . | "$ROOT/bin/busybox" cpio -o -H newc 2>/dev/null) > "$OUT/initramfs.cpio"
rm -rf "$W"

echo "==> root image"
# ext4 straight from the tree: no loop device, no mount. Free space: a quarter, plus 256 MiB.
KB=$(du -sk "$ROOT" | cut -f1)
SIZE_MB=$(( KB * 125 / 100 / 1024 + 256 ))
rm -f "$OUT/root.ext4"
mke2fs -q -t ext4 -L sandbox-root -d "$ROOT" -O ^has_journal -m 0 -E root_owner=0:0 "$OUT/root.ext4" "${SIZE_MB}M"
rm -rf "$ROOT"
chmod 0644 "$OUT"/vmlinuz "$OUT"/vmlinux "$OUT"/initramfs.cpio "$OUT"/root.ext4
echo "==> done: $(du -sh "$OUT/root.ext4" | cut -f1) on disk, ${SIZE_MB} MiB image"
