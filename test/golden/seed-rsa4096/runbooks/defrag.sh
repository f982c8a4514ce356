#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: $PROG [--help] [--yes]

Shrinks etcd cluster $CLUSTER's database: compacts away every revision older than the current one
(the history; the current keys stay), then defragments one member at a time, followers first and the
leader last, checking the whole cluster's health between members. A member does not serve while it
defragments. Finally disarms a NOSPACE alarm if one was raised. Refuses unless every member is healthy.

  --yes   do not ask before compacting

Exit codes: 0 done and healthy; 1 a step failed or the cluster did not recover; 2 usage;
3 refused (a member is unhealthy); 4 not confirmed.
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    -y | --yes) YES=true ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
  shift
done
require_admin_pki

declare -A size_before=()
followers=() leader="" revision=0
for m in "${MEMBERS[@]}"; do
  url=${CLIENT_URL[$m]}
  healthy "$url" || die "$EXIT_REFUSED" "$m is not healthy: defragment only a healthy cluster (runbooks/health.sh); etcdctl said: ${UNHEALTHY_SAID[$url]}"
  status=$(ectl "$url" endpoint status -w fields) || die "$EXIT_FAILED" "endpoint status of $m failed"
  size_before[$m]=$(status_field "$status" DBSize)
  rev=$(status_field "$status" Revision)
  [ "$rev" -gt "$revision" ] && revision=$rev
  if [ "$(status_field "$status" Leader)" = "$(status_field "$status" MemberID)" ]; then leader=$m; else followers+=("$m"); fi
done
[ -n "$leader" ] || die "$EXIT_REFUSED" "no member says it leads: try again once an election is over"

confirm "compact $CLUSTER to revision $revision (older revisions are discarded), then defragment ${followers[*]} and the leader $leader last"

say "compacting to revision $revision"
if ! out=$(ectl "$ENDPOINTS" compact "$revision" --physical --command-timeout=10m 2>&1); then
  grep -q 'required revision has been compacted' <<<"$out" || die "$EXIT_FAILED" "compaction failed: $out"
  say "revision $revision was compacted already"
fi

for m in "${followers[@]}" "$leader"; do
  say "defragmenting $m"
  ectl "${CLIENT_URL[$m]}" defrag --command-timeout=30m >/dev/null || die "$EXIT_FAILED" "defragmenting $m failed; the members after it were not touched"
  wait_healthy || die "$EXIT_FAILED" "the cluster is not healthy after defragmenting $m; stopped before the next member"
  status=$(ectl "${CLIENT_URL[$m]}" endpoint status -w fields)
  say "$m: ${size_before[$m]} -> $(status_field "$status" DBSize) bytes"
done

alarms=$(ectl "$ENDPOINTS" alarm list)
if grep -q 'alarm:NOSPACE' <<<"$alarms"; then
  # alarm disarm clears every alarm: never a CORRUPT one, which needs a person.
  others=$(grep -v 'alarm:NOSPACE' <<<"$alarms" || true)
  [ -z "$others" ] || die "$EXIT_FAILED" "alarms other than NOSPACE are raised; not disarming: $alarms"
  say "disarming the NOSPACE alarm"
  ectl "$ENDPOINTS" alarm disarm >/dev/null || die "$EXIT_FAILED" "alarm disarm failed"
fi
alarms=$(ectl "$ENDPOINTS" alarm list)
[ -z "$alarms" ] || die "$EXIT_FAILED" "alarms still raised: $alarms"
say "done: $CLUSTER compacted to revision $revision and defragmented; no alarm"
