#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: $PROG [--help] [--yes] NAME

Adds member NAME, which cluster.yaml has and the running cluster $CLUSTER does not yet, as etcd-gen
plan orders: as a learner (no vote, so quorum is unchanged while it catches up), started with
initial-cluster-state=existing and an empty data dir (anything there is set aside), then promoted.
Deploy NAME's files from this output on its host first (nodes/NAME/root/ or nodes/NAME/user-data.yaml).
Give clients (kube-apiserver's --etcd-servers) NAME's URL only after this: a learner refuses client
requests. Refuses unless every current member is healthy.

Members of this output: ${MEMBERS[*]}

  --yes   do not ask before adding

Exit codes: 0 added and healthy; 1 a step failed; 2 usage; 3 refused; 4 not confirmed.
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
is_member "$name" || usage_error "$name is not in this output: add it to cluster.yaml and run etcd-gen build first"
require_admin_pki

load_live_members
[ -z "${LIVE_ID[$name]:-}" ] || die "$EXIT_REFUSED" "$name is a member of $CLUSTER already; to rebuild it use runbooks/replace-member.sh $name"
[ -z "${LIVE_ID[${PEER_URL[$name]}]:-}" ] || die "$EXIT_REFUSED" "a member at ${PEER_URL[$name]} was added but never started; remove it (etcdctl member remove ${LIVE_ID[${PEER_URL[$name]}]}) or finish with replace-member.sh"
for n in "${LIVE_NAMES[@]}"; do
  [ "${LIVE_LEARNER[$n]}" = true ] && die "$EXIT_REFUSED" "$n is still a learner: add one member at a time"
done
count_voting ""
[ "$HEALTHY_OTHERS" -eq "$VOTING" ] || die "$EXIT_REFUSED" "only $HEALTHY_OTHERS of $VOTING members are healthy: grow only a healthy cluster"

confirm "add $name (${PEER_URL[$name]}) to $CLUSTER: $VOTING -> $((VOTING + 1)) members, quorum $(quorum_of "$VOTING") -> $(quorum_of $((VOTING + 1)))"
join_member "$name" "${MEMBER_HOST[$name]}" "${PEER_URL[$name]}" learner
wait_healthy || die "$EXIT_FAILED" "$name was added but the cluster is not healthy yet: runbooks/health.sh"
ectl "$ENDPOINTS" member list -w table
say "added $name"
