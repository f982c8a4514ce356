#!/usr/bin/env bash
# Test stand-in for `ssh root@HOST COMMAND`, as the runbooks' ETCD_GEN_REMOTE: runs COMMAND as root "on"
# the member at HOST, that is in a private mount namespace where the member's paths are bind mounts of
# its test directories, /etc/passwd names its etcd user, and `systemctl` is test/harness/systemctl.sh.
# Called as: member-shell.sh TABLE SYSTEMCTL HOST COMMAND...; stdin is passed on, as ssh does.
# TABLE has one line per member: host, name, uid, log, passwd, group, then (source, target) bind pairs.
set -euo pipefail
table=$1 systemctl=$2 host=$3
shift 3
command="$*"
line=$(awk -F'\t' -v h="$host" '$1 == h' "$table")
[ -n "$line" ] || { echo "member-shell: no member at $host" >&2; exit 255; }
IFS=$'\t' read -r -a f <<<"$line"
fakebin=$(mktemp -d)
trap 'rm -rf "$fakebin"' EXIT
printf '#!/bin/sh\nexec bash %s "$@"\n' "${systemctl@Q}" >"$fakebin/systemctl"
chmod 0755 "$fakebin"/systemctl
mounts="mount --bind ${f[4]@Q} /etc/passwd && mount --bind ${f[5]@Q} /etc/group"
for ((i = 6; i + 1 < ${#f[@]}; i += 2)); do
  mounts="$mounts && mkdir -p ${f[i + 1]@Q} && mount --bind ${f[i]@Q} ${f[i + 1]@Q}"
done
ETCD_GEN_TEST_LOG=${f[3]} PATH="$fakebin:$PATH" unshare -m --propagation private sh -c "$mounts && exec sh -c \"\$1\"" sh "$command"
