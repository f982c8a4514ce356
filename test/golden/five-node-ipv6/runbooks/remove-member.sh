#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: $PROG [--help] [--yes] NAME

Removes member NAME, which the running cluster $CLUSTER has and cluster.yaml no longer does, as
etcd-gen plan orders (removals last, one at a time): hands leadership to another member if NAME
leads, removes it from the cluster, then on its host stops and disables etcd and sets its data dir
aside (renamed, never deleted). Refuses when the remaining members could not keep a quorum.

Members of this output (these stay): ${MEMBERS[*]}

  --yes   do not ask before removing

Exit codes: 0 removed and healthy; 1 a step failed; 2 usage; 3 refused (quorum); 4 not confirmed.
USAGE
}

name=""
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    -y | --yes) YES=true ;;
    -*) usage_error "unknown option: $1" ;;
    *) [ -z "$name" ] || usage_error "one NAME only"; name=$1 ;;
  esac
  shift
done
[ -n "$name" ] || usage_error "which member? NAME of a member removed from cluster.yaml"
is_member "$name" && usage_error "$name is still in this output: remove it from cluster.yaml and run etcd-gen build first (to rebuild a broken member, use runbooks/replace-member.sh $name)"
require_admin_pki

load_live_members
[ -n "${LIVE_ID[$name]:-}" ] || die "$EXIT_REFUSED" "$name is not a member of $CLUSTER (member list: ${LIVE_NAMES[*]})"
count_voting "$name"
# The removal is committed by the cluster as it is now, where NAME votes only if it is a healthy voter;
# after it, the voting members other than NAME must keep a quorum of their own.
voters_after=$VOTING own_vote=0
if [ "${LIVE_LEARNER[$name]}" != true ]; then
  voters_after=$((VOTING - 1))
  if healthy "${LIVE_CLIENT[$name]}"; then own_vote=1; fi
fi
[ "$voters_after" -ge 1 ] || die "$EXIT_REFUSED" "$name is the only voting member: removing it would end the cluster"
quorum_after=$(quorum_of "$voters_after")
needed=$(($(quorum_of "$VOTING") - own_vote))
[ "$needed" -ge "$quorum_after" ] || needed=$quorum_after
[ "$HEALTHY_OTHERS" -ge "$needed" ] || die "$EXIT_REFUSED" "only $HEALTHY_OTHERS of the voting members other than $name are healthy; $needed are needed to remove it and keep a quorum"
host=$(url_host "${LIVE_PEER[$name]}")

confirm "remove $name (${LIVE_ID[$name]}, ${LIVE_PEER[$name]}) from $CLUSTER: $VOTING -> $voters_after voting members, quorum $(quorum_of "$VOTING") -> $quorum_after"

if status=$(ectl "${LIVE_CLIENT[$name]}" endpoint status -w fields 2>/dev/null) &&
  [ "$(status_field "$status" Leader)" = "$(status_field "$status" MemberID)" ]; then
  for n in "${LIVE_NAMES[@]}"; do
    if [ "$n" = "$name" ] || [ "${LIVE_LEARNER[$n]}" = true ] || ! healthy "${LIVE_CLIENT[$n]}"; then continue; fi
    say "$name leads: handing leadership to $n first"
    ectl "${LIVE_CLIENT[$name]}" move-leader "${LIVE_ID[$n]}" >/dev/null || die "$EXIT_FAILED" "move-leader to $n failed"
    break
  done
fi

reconfigure remove "${LIVE_ID[$name]}" >/dev/null || die "$EXIT_FAILED" "member remove $name failed"
say "removed $name from $CLUSTER"
if remote "$host" "systemctl disable --now $(shq "$UNIT")"; then
  member_set_aside_data "$host" "removed" || say "warning: could not set the data dir aside on $host"
else
  say "warning: could not stop etcd on $host; stop and disable it there, or it keeps trying to reach its old peers"
fi
wait_healthy || die "$EXIT_FAILED" "the cluster is not healthy after removing $name: runbooks/health.sh"
ectl "$ENDPOINTS" member list -w table
say "removed $name"
