#!/usr/bin/env bash
# The root file system every host of the real-hosts bed (test/hosts/, npm run test:hosts) boots from: Debian
# bookworm by debootstrap with systemd, sshd, sudo and cloud-init, made generic (no machine-id, no ssh host
# keys, no hostname, no resolver, no apt sources, so apt-get update works offline and cloud-init's
# package step finds curl and ca-certificates installed). Kept as a zstd tarball outside the repository,
# keyed by a hash of this script, so it is rebuilt only when the package list or the steps change.
# Usage: scripts/hosts-rootfs.sh  -> prints the tarball's path (built first if missing). Needs root.
set -euo pipefail
cache=${ETCD_GEN_HOSTS_CACHE:-/var/cache/etcd-gen/hosts}
packages=(systemd systemd-sysv dbus openssh-server sudo cloud-init locales python3-cffi-backend ca-certificates curl iproute2 procps)
key=$(sha256sum "$0" | cut -c1-12)
tarball="$cache/bookworm-$key.tar.zst"
if [ -s "$tarball" ]; then
  echo "$tarball"
  exit 0
fi
# The Debian mirror apt uses on this machine (deb822 .sources first, then sources.list).
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)[[:space:]]*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\)[[:space:]]\+bookworm[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
root="$work/root"
echo "hosts-rootfs: debootstrap bookworm from $mirror into $root" >&2
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
echo 'en_US.UTF-8 UTF-8' >"$root/etc/locale.gen"
chroot "$root" locale-gen >/dev/null
echo 'LANG=en_US.UTF-8' >"$root/etc/default/locale"
# Generic: every host gets its own machine-id at first boot, its ssh host keys from cloud-init, its
# hostname from the NoCloud meta-data, and no resolver (nothing leaves the bed).
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
echo localhost >"$root/etc/hostname"
rm -f "$root/etc/resolv.conf"
: >"$root/etc/resolv.conf"
: >"$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*
# No packaged etcd unit may shadow the one etcd-gen writes.
rm -f "$root/lib/systemd/system/etcd.service" "$root/etc/systemd/system/etcd.service"
# cloud-init: NoCloud from the seed directory only; the bed's addresses are set from outside, so
# cloud-init writes no network configuration; one ssh host key (ed25519) per host, to boot faster.
cat >"$root/etc/cloud/cloud.cfg.d/90-etcd-gen-bed.cfg" <<'EOF'
datasource_list: [NoCloud, None]
network: {config: disabled}
ssh_genkeytypes: [ed25519]
EOF
# No getty on a console nobody reads, and no units that wait for hardware a container lacks.
for unit in getty@tty1.service console-getty.service systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
tar -C "$root" --numeric-owner --xattrs -cf - . | zstd -q -T0 -o "$work/rootfs.tar.zst"
mv "$work/rootfs.tar.zst" "$tarball"
echo "$tarball"
