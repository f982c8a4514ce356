#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: $PROG [--help]

Every member of etcd cluster $CLUSTER: health, leader, database size, revision and raft term, as a
table, then the cluster's alarms. Read-only. Asks every member at once with short timeouts, so it
answers in seconds even when members are down.

Exit codes: 0 every member is healthy and no alarm is raised; 1 otherwise; 2 usage.
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
done
require_admin_pki

# An answer in seconds whatever the state: every member is asked at once, with short timeouts (a member
# that does not answer costs the 2 s dial timeout once, not per check).
ECTL_TIMEOUTS=(--dial-timeout=2s --command-timeout=3s)
HEALTH_TIMEOUT=()
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Member $1's health ($work/$1.health: "true", or "false" and what etcdctl said) and its status
# ($work/$1.status: `endpoint status -w fields`).
probe_health() {
  if healthy "${CLIENT_URL[$1]}"; then echo true; else printf 'false\n%s\n' "${UNHEALTHY_SAID[${CLIENT_URL[$1]}]}"; fi >"$work/$1.health"
}
probe_status() { ectl "${CLIENT_URL[$1]}" endpoint status -w fields >"$work/$1.status" 2>/dev/null || : >"$work/$1.status"; }
for m in "${MEMBERS[@]}"; do
  probe_health "$m" &
  probe_status "$m" &
done
{ ectl "$ENDPOINTS" alarm list | sed 's/^/> /'; } >"$work/alarms" 2>&1 && echo ok >"$work/alarms.ok" &
member_list_into "$work/members" &
wait

failed=0
said=()
printf '%-16s %-40s %-8s %-7s %12s %10s %6s\n' MEMBER ENDPOINT HEALTHY LEADER DB_BYTES REVISION TERM
for m in "${MEMBERS[@]}"; do
  url=${CLIENT_URL[$m]}
  ok=$(sed -n 1p "$work/$m.health") leader=- size=- revision=- term=-
  if [ "$ok" != true ]; then
    ok=false failed=1
    said+=("$m: etcdctl said: $(sed -n 2p "$work/$m.health")")
  fi
  status=$(cat "$work/$m.status")
  if [ -n "$status" ]; then
    size=$(status_field "$status" DBSize)
    revision=$(status_field "$status" Revision)
    term=$(status_field "$status" RaftTerm)
    if [ "$(status_field "$status" Leader)" = "$(status_field "$status" MemberID)" ]; then leader=yes; else leader=no; fi
  fi
  printf '%-16s %-40s %-8s %-7s %12s %10s %6s\n' "$m" "$url" "$ok" "$leader" "$size" "$revision" "$term"
done

out=$(cat "$work/alarms")
if [ -e "$work/alarms.ok" ]; then
  alarms=$(sed -n 's/^> //p' <<<"$out")
  if [ -n "$alarms" ]; then
    echo "alarms:"
    while IFS= read -r line; do echo "  $line"; done <<<"$alarms"
    failed=1
  else
    echo "alarms: none"
  fi
else
  echo "alarms: unknown (alarm list failed)"
  said+=("alarm list: etcdctl said: $(etcdctl_said "$(sed '/^> /d' <<<"$out")")")
  failed=1
fi

# Members etcd knows that this output does not, or the other way round.
if live_members_from_file "$work/members"; then
  for n in "${LIVE_NAMES[@]}"; do is_member "$n" || say "warning: $n is a member of the running cluster but not of this output"; done
fi

if [ "$failed" -ne 0 ]; then
  for line in "${said[@]}"; do say "$line"; done
  say "cluster $CLUSTER is NOT healthy"
  exit "$EXIT_FAILED"
fi
say "cluster $CLUSTER is healthy: ${#MEMBERS[@]} members"
