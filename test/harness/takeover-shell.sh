#!/usr/bin/env bash
# Test stand-in for `ssh root@HOST COMMAND` on a host built by the manual procedure (test/live/takeover.test.ts):
# runs COMMAND as root in a private mount namespace where the host's own /etc is an overlay over the
# machine's (so /etc/etcd.conf, /etc/etcd/, unit files and the etcd user are the host's alone), /var/lib
# and /run/etcd-gen are its directories, /usr/local/bin holds the etcd release under test, /etc/hosts
# names every member, and `systemctl` is test/harness/units.sh.
# Called as: takeover-shell.sh TABLE SYSTEMCTL HOST COMMAND...; stdin is passed on, as ssh does.
# TABLE has one line per host (found by address or name): address, name, log prefix, /etc upper dir, overlay work dir, /var/lib dir,
# /run/etcd-gen dir, etcd bin dir, hosts file.
set -euo pipefail
table=$1 systemctl=$2 host=$3
shift 3
command="$*"
line=$(awk -F'\t' -v h="$host" '$1 == h || $2 == h' "$table")
[ -n "$line" ] || { echo "takeover-shell: no host $host" >&2; exit 255; }
IFS=$'\t' read -r -a f <<<"$line"
fakebin=$(mktemp -d)
trap 'rm -rf "$fakebin"' EXIT
printf '#!/bin/sh\nexec bash %s "$@"\n' "${systemctl@Q}" >"$fakebin/systemctl"
chmod 0755 "$fakebin"/systemctl
mounts="mount -t overlay overlay -o lowerdir=/etc,upperdir=${f[3]@Q},workdir=${f[4]@Q} /etc"
mounts="$mounts && mount --bind ${f[8]@Q} /etc/hosts && mount --bind ${f[5]@Q} /var/lib"
mounts="$mounts && mkdir -p /run/etcd-gen && mount --bind ${f[6]@Q} /run/etcd-gen"
mounts="$mounts && mount -t overlay overlay -o lowerdir=${f[7]@Q}:/usr/local/bin /usr/local/bin"
ETCD_GEN_TEST_LOG=${f[2]} PATH="$fakebin:$PATH" unshare -m --propagation private sh -c "$mounts && exec sh -c \"\$1\"" sh "$command"
