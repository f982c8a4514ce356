#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: $PROG [--help] [--yes] NAME

Replaces member NAME of etcd cluster $CLUSTER: a member that died, lost or corrupted its data, or
moved to a new host (etcd-gen plan names this runbook for moves). It removes NAME from the cluster,
stops etcd on its host, sets its data dir aside (renamed, never deleted), adds it back at its peer
URL in this output and starts it with initial-cluster-state=existing. It joins as a voting member, not
as a learner: a learner refuses the requests that clients such as kube-apiserver already send to its
URL, and the others make the quorum with or without it. Deploy NAME's files from this output on its host first (nodes/NAME/root/ or
nodes/NAME/user-data.yaml). Refuses when the other members could not keep a quorum meanwhile.

Members: ${MEMBERS[*]}

  --yes   do not ask before removing the member

Exit codes: 0 replaced and healthy; 1 a step failed; 2 usage; 3 refused (quorum); 4 not confirmed.
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
[ -n "$name" ] || usage_error "which member? one of: ${MEMBERS[*]}"
is_member "$name" || usage_error "$name is not a member of this output; members: ${MEMBERS[*]}"
require_admin_pki

host=${MEMBER_HOST[$name]}
load_live_members
count_voting "$name"
live=false
[ -n "${LIVE_ID[$name]:-}" ] && live=true
if [ "$live" = true ]; then
  # NAME is stopped before its removal, which is committed by the cluster as it is now: the others
  # alone must make its quorum (more than the quorum after the removal, for an even member count).
  needed=$(quorum_of "$VOTING")
  [ "${LIVE_LEARNER[$name]}" = true ] || [ "$VOTING" -ge 2 ] || die "$EXIT_REFUSED" "$name is the only voting member: replacing it would end the cluster; restore from a snapshot instead (runbooks/restore.sh)"
  [ "$HEALTHY_OTHERS" -ge "$needed" ] || die "$EXIT_REFUSED" "only $HEALTHY_OTHERS of the voting members other than $name are healthy; removing it takes $needed of the $VOTING: bring them back first"
  old_host=$(url_host "${LIVE_PEER[$name]}")
  confirm "remove $name (${LIVE_ID[$name]}, ${LIVE_PEER[$name]}) from $CLUSTER, set its data aside on $host and add it back as ${PEER_URL[$name]}"
  if [ "$old_host" != "$host" ]; then
    # A move: the old host must not come back with the old identity.
    remote "$old_host" "systemctl disable --now $(shq "$UNIT")" || say "warning: could not stop etcd on the old host $old_host; stop it there before it comes back"
  else
    member_stop "$host" || say "warning: could not stop etcd on $host (down?); going on"
  fi
  reconfigure remove "${LIVE_ID[$name]}" >/dev/null || die "$EXIT_FAILED" "member remove $name failed"
  say "removed $name from $CLUSTER"
else
  # An earlier attempt may have left NAME added but never started: etcd lists it by peer URL alone.
  stale=${LIVE_ID[${PEER_URL[$name]}]:-}
  if [ -n "$stale" ]; then
    confirm "remove the member $stale at ${PEER_URL[$name]}, added but never started (an earlier attempt?), before adding $name again"
    reconfigure remove "$stale" >/dev/null || die "$EXIT_FAILED" "member remove $stale failed"
    load_live_members
    count_voting "$name"
  fi
  [ "$HEALTHY_OTHERS" -ge "$(quorum_of $((VOTING + 1)))" ] || die "$EXIT_REFUSED" "$name is not in the cluster, and only $HEALTHY_OTHERS of $VOTING voting members are healthy"
  confirm "$name is not a member of $CLUSTER now: add it as ${PEER_URL[$name]}, setting aside any data on $host"
fi

join_member "$name" "$host" "${PEER_URL[$name]}" voter
wait_healthy || die "$EXIT_FAILED" "$name was added but the cluster is not healthy yet: runbooks/health.sh"
ectl "$ENDPOINTS" member list -w table
say "replaced $name; once you are satisfied, delete the data set aside as *-$STAMP beside $DATA_DIR on $host (inside it where it is a mount point)"
