#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
require_tools sha256sum

usage() {
  cat <<USAGE
Usage: $PROG [--help] [FILE]

Saves a snapshot of etcd cluster $CLUSTER from the first healthy member to FILE (default:
$CLUSTER-<UTC time>.db in the current directory), mode 0600, then checks it with
'$SNAPSHOT_TOOL snapshot status' and writes its SHA-256 to FILE.sha256. An existing FILE is never
overwritten. The snapshot holds every Secret of the Kubernetes cluster: keep it like a private key.

Exit codes: 0 saved and checked; 1 no healthy member, or the snapshot failed its check; 2 usage.
USAGE
}

file=""
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    -*) usage_error "unknown option: $1" ;;
    *) [ -z "$file" ] || usage_error "one FILE only"; file=$1 ;;
  esac
  shift
done
require_admin_pki
require_snapshot_tool
[ -n "$file" ] || file="$CLUSTER-$STAMP.db"
[ ! -e "$file" ] || usage_error "$file exists: choose another FILE"
[ ! -e "$file.part" ] || usage_error "$file.part exists (an earlier snapshot that did not finish?): remove it first"

source_member=""
for m in "${MEMBERS[@]}"; do
  if healthy "${CLIENT_URL[$m]}"; then source_member=$m; break; fi
  say "$m is not healthy; etcdctl said: ${UNHEALTHY_SAID[${CLIENT_URL[$m]}]}"
done
[ -n "$source_member" ] || die "$EXIT_FAILED" "no member of $CLUSTER is healthy: nothing to take a snapshot from"

say "saving a snapshot of $CLUSTER from $source_member (${CLIENT_URL[$source_member]}) to $file"
ectl "${CLIENT_URL[$source_member]}" snapshot save "$file" --command-timeout=30m >/dev/null 2>"$file.log" || {
  cat "$file.log" >&2
  rm -f "$file.log"
  die "$EXIT_FAILED" "snapshot save failed"
}
rm -f "$file.log"
if ! snapshot_tool snapshot status "$file" -w table; then
  mv -- "$file" "$file.corrupt"
  die "$EXIT_FAILED" "the snapshot failed its check; kept as $file.corrupt for inspection: do not restore it"
fi
(cd -- "$(dirname -- "$file")" && sha256sum -- "$(basename -- "$file")") >"$file.sha256"
say "saved and checked: $file ($(wc -c <"$file") bytes), SHA-256 in $file.sha256"
