# shellcheck shell=bash disable=SC2034,SC2209
# Written by etcd-gen build, the same for every cluster. Do not edit: etcd-gen build replaces it.
# runbooks/lib.sh: the helpers every runbook beside it shares; the cluster's facts are in cluster.sh beside
# it, which it reads. The runbooks source it; it does nothing on its own.
#
# Environment (all optional):
#   ETCDCTL_BIN       the etcdctl to run (default: etcdctl on PATH)
#   ETCDUTL_BIN       the etcdutl to run, for etcd 3.5 and later (default: etcdutl on PATH)
#   ETCD_GEN_REMOTE   how a command runs as root on a member: it is given the member's host and one
#                     shell command, as ssh is (default: ssh -o BatchMode=yes -l root)
#   ETCD_GEN_WAIT     seconds to wait for the cluster to become healthy (default: 120)
if [ -z "${BASH_VERSION:-}" ] || [ "${BASH_VERSINFO[0]}" -lt 4 ]; then
  echo "runbooks need bash 4 or later" >&2
  exit 2
fi
set -euo pipefail
umask 077

RUNBOOKS_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
OUT_DIR=$(dirname -- "$RUNBOOKS_DIR")
ADMIN_PKI="$OUT_DIR/admin/pki"
PROG=$(basename -- "$0")

# The facts of this cluster: its members, paths, owners and modes, and what its etcd release can do.
# shellcheck source-path=SCRIPTDIR source=cluster.sh
. "$RUNBOOKS_DIR/cluster.sh"

# Exit codes shared by every runbook.
EXIT_FAILED=1     # a step failed, or the cluster is not healthy
EXIT_USAGE=2      # bad arguments or missing files
EXIT_REFUSED=3    # refused: the step would cost quorum or data, or the cluster is not ready for it
EXIT_ABORTED=4    # not confirmed

YES=false
LIVE_SAID=""
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
# The tools; then every ETCDCTL_* and ETCDUTL_* variable is taken out of the environment, whatever the
# caller's shell holds: etcdctl refuses a setting given both as a variable and as a flag (a shell that
# sourced admin/etcdctl.env holds ETCDCTL_ENDPOINTS and the certificates), and warns of every variable
# it does not know. Every setting the runbooks need is a flag.
etcdctl_bin=${ETCDCTL_BIN:-etcdctl} etcdutl_bin=${ETCDUTL_BIN:-etcdutl}
unset "${!ETCDCTL_@}" "${!ETCDUTL_@}"

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# What a runbook needs on the operator's machine, checked before it does anything, every missing tool
# named at once. lib.sh asks for what every runbook uses; a runbook asks for what only it uses.
require_tools() {
  local tool missing=()
  for tool in "$@"; do command -v -- "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "not found on this machine: ${missing[*]}. etcdctl and etcdutl come with etcd $ETCD_VERSION (ETCDCTL_BIN and ETCDUTL_BIN name others); members are reached with ssh unless ETCD_GEN_REMOTE names another command; the others are in coreutils, gawk or mawk, sed, grep, openssl and curl"
  exit "$EXIT_USAGE"
}
remote_via=${ETCD_GEN_REMOTE:-ssh}
require_tools "$etcdctl_bin" "${remote_via%% *}" timeout awk sed grep sort

# etcdctl's own words, from what it wrote to stderr: its last line, or of a JSON log line (a fatal
# error), the message and what it names. So a failure says what etcdctl said, not only that it failed.
etcdctl_said() {
  local line last="" msg detail
  while IFS= read -r line; do [ -n "${line//[[:space:]]/}" ] && last=$line; done <<<"$1"
  if [[ $last == '{'* ]]; then
    msg=$(sed -n 's/.*"msg":"\(\([^"\\]\|\\.\)*\)".*/\1/p' <<<"$last")
    detail=$(sed -n 's/.*"\(environment-variable\|error\)":"\(\([^"\\]\|\\.\)*\)".*/\2/p' <<<"$last")
    [ -z "$msg" ] || last="$msg${detail:+: $detail}"
  fi
  printf '%s' "${last:-(etcdctl printed nothing)}"
}
die() {
  local code=$1
  shift
  say "$*"
  exit "$code"
}
usage_error() {
  say "$*"
  die "$EXIT_USAGE" "run '$PROG --help' for usage"
}

# Quotes one value for a POSIX shell on a member.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

quorum_of() { echo $(($1 / 2 + 1)); }

is_member() {
  local m
  for m in "${MEMBERS[@]}"; do [ "$m" = "$1" ] && return 0; done
  return 1
}

# Asks before a destructive step; --yes answers for the operator. Without a terminal and without --yes,
# the answer is no.
confirm() {
  say "$1"
  [ "$YES" = true ] && return 0
  [ -t 0 ] || die "$EXIT_ABORTED" "not confirmed: no terminal to ask on; run again with --yes"
  local answer
  read -r -p "Type yes to continue: " answer
  [ "$answer" = yes ] || die "$EXIT_ABORTED" "not confirmed; nothing was changed by this step"
}

require_admin_pki() {
  local f
  for f in ca.crt admin.crt admin.key; do
    if [ ! -r "$ADMIN_PKI/$f" ]; then
      [ -e "$ADMIN_PKI/$f.age" ] && die "$EXIT_USAGE" "$ADMIN_PKI/$f is age-encrypted: decrypt it there first (age -d -i IDENTITY -o $ADMIN_PKI/$f $ADMIN_PKI/$f.age)"
      die "$EXIT_USAGE" "$ADMIN_PKI/$f is missing: run the runbooks from the output etcd-gen built, with its keys"
    fi
  done
  command -v "$etcdctl_bin" >/dev/null || die "$EXIT_USAGE" "etcdctl not found: install etcd's etcdctl $ETCD_VERSION or set ETCDCTL_BIN"
}

# etcdctl with the admin certificate against ENDPOINTS (comma-separated); later flags override the
# timeouts set here.
# How long etcdctl waits for a connection and for an answer. A script that must answer quickly whatever the
# state of the cluster (health.sh) sets shorter ones.
ECTL_TIMEOUTS=(--dial-timeout=5s --command-timeout=15s)
ectl() {
  local endpoints=$1
  shift
  ETCDCTL_API=3 "$etcdctl_bin" --endpoints="$endpoints" \
    --cacert="$ADMIN_PKI/ca.crt" --cert="$ADMIN_PKI/admin.crt" --key="$ADMIN_PKI/admin.key" \
    "${ECTL_TIMEOUTS[@]}" "$@"
}

# The snapshot tool must be here before a snapshot is checked: a missing etcdutl is not a bad snapshot.
require_snapshot_tool() {
  [ "$SNAPSHOT_TOOL" = etcdutl ] || return 0
  command -v "$etcdutl_bin" >/dev/null ||
    die "$EXIT_USAGE" "etcdutl not found: etcd $ETCD_VERSION checks and restores snapshots with etcdutl; install it from the same release or set ETCDUTL_BIN"
}

# etcdctl or etcdutl, whichever this release uses for offline snapshot work.
snapshot_tool() {
  if [ "$SNAPSHOT_TOOL" = etcdutl ]; then
    "$etcdutl_bin" "$@"
  else
    ETCDCTL_API=3 "$etcdctl_bin" "$@"
  fi
}

# Runs one shell command as root on the member at HOST, with this script's stdin.
remote() {
  local host=$1 command=$2
  local -a via
  read -r -a via <<<"${ETCD_GEN_REMOTE:-ssh -o BatchMode=yes -l root}"
  "${via[@]}" "$host" "$command"
}

# Whether the member at URL serves a linearizable read: it is up, and part of a quorum with a leader.
# This is what `endpoint health` checks in 3.4; from 3.5 on that command also reports every member
# unhealthy while any alarm is raised, which would stop defrag.sh from clearing NOSPACE. Alarms are
# checked on their own (health.sh, defrag.sh). When not, UNHEALTHY_SAID[URL] holds what etcdctl said.
declare -A UNHEALTHY_SAID=()
HEALTH_TIMEOUT=(--command-timeout=5s)
healthy() {
  local said
  said=$(ectl "$1" get health "${HEALTH_TIMEOUT[@]}" 2>&1 >/dev/null) && return 0
  UNHEALTHY_SAID[$1]=$(etcdctl_said "$said")
  return 1
}

# One field of `endpoint status -w fields` for a single endpoint, e.g. Revision, DBSize, Leader.
status_field() {
  local status=$1 field=$2
  awk -F' : ' -v key="\"$field\"" '$1 == key { gsub(/"/, "", $2); print $2; exit }' <<<"$status"
}

# The cluster's members as etcd sees them now, from `member list`: fills LIVE_NAMES and, by name (or
# by peer URL for a member added but not started yet), LIVE_ID, LIVE_PEER, LIVE_CLIENT, LIVE_LEARNER.
# Returns 1 when etcd does not answer, with what etcdctl said in LIVE_SAID.
read_live_members() {
  local out answered=true
  out=$(member_list_marked 2>&1) || answered=false
  live_members_from "$out" "$answered"
}

# `member list`, its stdout lines marked "> ": etcdctl's answer and its errors apart, with no file.
member_list_marked() { ectl "$ENDPOINTS" member list -w simple | sed 's/^/> /'; }

# member list's answer into FILE (stdout lines marked as read_live_members marks them; FILE.ok when it
# succeeded), for a script that asks several things at once; live_members_from_file FILE reads it then.
member_list_into() { member_list_marked >"$1" 2>&1 && echo ok >"$1.ok"; }
live_members_from_file() {
  local answered=true
  [ -e "$1.ok" ] || answered=false
  live_members_from "$(cat "$1")" "$answered"
}

# Fills the LIVE_* tables from member list's marked answer $1; $2 is false when etcdctl failed.
live_members_from() {
  local out=$1 line list="" said="" id name peer client learner key
  if [ "$2" = false ]; then
    while IFS= read -r line; do [[ $line == '> '* ]] || said+="$line"$'\n'; done <<<"$out"
    LIVE_SAID=$(etcdctl_said "$said")
    return 1
  fi
  while IFS= read -r line; do [[ $line != '> '* ]] || list+="${line#> }"$'\n'; done <<<"$out"
  LIVE_NAMES=()
  declare -gA LIVE_ID=() LIVE_PEER=() LIVE_CLIENT=() LIVE_LEARNER=()
  while IFS=',' read -r id _ name peer client learner; do
    [ -n "$id" ] || continue
    key=${name# }
    [ -n "$key" ] || key=${peer# }
    LIVE_NAMES+=("$key")
    LIVE_ID[$key]=${id// /}
    LIVE_PEER[$key]=${peer// /}
    LIVE_CLIENT[$key]=${client// /}
    LIVE_LEARNER[$key]=${learner// /}
  done <<<"$list"
}

load_live_members() { read_live_members || die "$EXIT_REFUSED" "member list failed: is a quorum of $CLUSTER up? etcdctl said: $LIVE_SAID"; }

# How many voting members there are now, and how many of them other than EXCLUDE answer healthy.
count_voting() {
  local exclude=${1:-} n
  VOTING=0
  HEALTHY_OTHERS=0
  for n in "${LIVE_NAMES[@]}"; do
    [ "${LIVE_LEARNER[$n]}" = true ] && continue
    VOTING=$((VOTING + 1))
    [ "$n" = "$exclude" ] && continue
    [ -n "${LIVE_CLIENT[$n]}" ] && healthy "${LIVE_CLIENT[$n]}" && HEALTHY_OTHERS=$((HEALTHY_OTHERS + 1))
  done
  return 0
}

# Runs COMMAND... every 2 seconds until it succeeds; fails once ETCD_GEN_WAIT seconds have passed.
retry_within_wait() {
  local deadline=$((SECONDS + ${ETCD_GEN_WAIT:-120}))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 2
  done
}

# Waits until every member in the live member list answers healthy, or ETCD_GEN_WAIT seconds pass.
wait_healthy() {
  local deadline=$((SECONDS + ${ETCD_GEN_WAIT:-120})) n bad
  while :; do
    bad=""
    if ! read_live_members; then
      bad=" (no quorum yet; etcdctl said: $LIVE_SAID)"
    else
      for n in "${LIVE_NAMES[@]}"; do
        if [ -z "${LIVE_CLIENT[$n]}" ]; then
          bad="$bad $n (not started)"
        elif ! healthy "${LIVE_CLIENT[$n]}"; then
          bad="$bad $n (etcdctl said: ${UNHEALTHY_SAID[${LIVE_CLIENT[$n]}]})"
        fi
      done
    fi
    [ -z "$bad" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "still not healthy after ${ETCD_GEN_WAIT:-120}s:$bad"
      return 1
    fi
    sleep 2
  done
}

# Whether every member accepts every other member's peer certificate on a new connection. Established
# peer connections outlive a change of what a member requires of its peers (the CA, the peer CN, the TLS
# policy): only a new connection shows it, and a member that restarts, or a stream that reconnects, needs
# one. So from each member, as the etcd user (etcd checks a peer certificate's addresses against the
# address the connection comes from), with its installed peer certificate: a TLS 1.2 handshake with each
# other member's peer URL (the peer CN is checked in the handshake) and GET /version there. Needs openssl
# on the members. Returns 1 and lists each refusal in PEER_REFUSALS ("m1 -> m2: what openssl said"), and
# the members that refused in PEER_REFUSERS.
peer_check() {
  local m q out=""
  local -a targets
  PEER_REFUSALS=""
  PEER_REFUSERS=()
  for m in "${MEMBERS[@]}"; do
    targets=()
    for q in "${MEMBERS[@]}"; do
      [ "$q" = "$m" ] || targets+=("$(shq "$q")" "$(shq "${PEER_URL[$q]#https://}")")
    done
    [ "${#targets[@]}" -gt 0 ] || continue
    out=$(remote "${MEMBER_HOST[$m]}" "sh -s -- $(shq "$PKI_DIR") $(shq "$ETCD_USER") $(shq "$ETCD_GROUP") ${targets[*]}" <<'PEER_CHECK'
p=$1 user=$2 group=$3
shift 3
command -v openssl >/dev/null || { echo "all: openssl is not installed on this member"; exit 1; }
status=0
f=$(mktemp)
while [ $# -gt 1 ]; do
  # GET /version over a new TLS 1.2 connection, as the etcd user. etcd may keep the connection open for
  # seconds after it answered, so the answer is read as it arrives and the client stopped then.
  printf 'GET /version HTTP/1.0\r\n\r\n' | timeout 10 setpriv --reuid="$user" --regid="$group" --clear-groups \
    openssl s_client -quiet -ign_eof -tls1_2 -verify_return_error -connect "$2" -cert "$p/peer.crt" -key "$p/peer.key" -CAfile "$p/ca.crt" >"$f" 2>&1 &
  pid=$!
  n=0
  while [ "$n" -lt 100 ] && kill -0 "$pid" 2>/dev/null && ! grep -q '"etcdserver"' "$f"; do
    sleep 0.1
    n=$((n + 1))
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  out=$(cat "$f")
  case $out in
    *'"etcdserver"'*) ;;
    *) status=1; echo "$1: $(printf '%s\n' "$out" | grep -v -e '^depth=' -e '^verify return' | tail -n 1)" ;;
  esac
  shift 2
done
rm -f "$f"
exit $status
PEER_CHECK
) && continue
    [ -n "$out" ] || out="the check could not run there"
    while IFS= read -r q; do
      [ -n "$q" ] || continue
      PEER_REFUSALS="$PEER_REFUSALS${PEER_REFUSALS:+; }$m -> $q"
      is_member "${q%%:*}" && PEER_REFUSERS+=("${q%%:*}")
    done <<<"$out"
  done
  [ -z "$PEER_REFUSALS" ]
}

# The serials (lowercase hex, no leading zeros) that this output's revocation list revokes; none
# without a list (etcd-gen build --revoke makes one).
revoked_serials() {
  local crl="$OUT_DIR/nodes/${MEMBERS[0]}/root$PKI_DIR/ca.crl"
  [ -f "$crl" ] || return 0
  command -v openssl >/dev/null || die "$EXIT_USAGE" "openssl is not installed here: it reads this output's revocation list ($crl)"
  openssl crl -inform DER -in "$crl" -noout -text | sed -n 's/^ *Serial Number: *//p' | tr 'A-F' 'a-f' | sed 's/^0*//'
}

# The serial (as revoked_serials writes it) of the certificate served at HOST:PORT $1, from here with the
# admin certificate; nothing when nothing answers there. A peer URL refuses the admin certificate (its
# CN is not the peers'), but only after it has sent its own, which s_client prints before it fails.
served_serial() {
  { timeout 10 openssl s_client -connect "$1" -cert "$ADMIN_PKI/admin.crt" -key "$ADMIN_PKI/admin.key" </dev/null 2>/dev/null || true; } |
    { openssl x509 -noout -serial 2>/dev/null || true; } | sed 's/^serial=//' | tr 'A-F' 'a-f' | sed 's/^0*//'
}

# Refuses when a member still serves, on its client or peer URL, a certificate this output's revocation
# list revokes: once the list is installed, every other member refuses that member's peer connections
# and it drops out. $1 says what to run first. Clients are not seen: one that still uses a revoked
# certificate (kube-apiserver with the procedure's shared client certificate) is cut off.
refuse_revoked_in_use() {
  local revoked m addr serial in_use=""
  revoked=$(revoked_serials)
  [ -n "$revoked" ] || return 0
  for m in "${MEMBERS[@]}"; do
    for addr in "${CLIENT_URL[$m]#https://}" "${PEER_URL[$m]#https://}"; do
      serial=$(served_serial "$addr")
      if [ -n "$serial" ] && grep -qxF "$serial" <<<"$revoked"; then in_use="$in_use${in_use:+, }$m on $addr (serial $serial)"; fi
    done
  done
  [ -z "$in_use" ] || die "$EXIT_REFUSED" "this output's revocation list revokes certificates that members still serve: $in_use. Installed, it would cut those members off; nothing was changed. $1"
}

# `etcdctl member ARGS...` for a membership change. etcd refuses one while a peer has been connected for
# only a few seconds ("unhealthy cluster"): such a refusal is retried until ETCD_GEN_WAIT runs out.
reconfigure() {
  local deadline=$((SECONDS + ${ETCD_GEN_WAIT:-120})) out
  while :; do
    if out=$(ectl "$ENDPOINTS" member "$@" 2>&1); then
      printf '%s\n' "$out"
      # etcd derives an added member's id from its peer URLs and the second it was added: a member
      # added again in the second a just-removed one was added would get that id, which etcd refuses.
      [ "$1" != remove ] || sleep 1
      return 0
    fi
    if ! grep -q -e 'unhealthy cluster' -e 'not enough started members' <<<"$out" || [ "$SECONDS" -ge "$deadline" ]; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    sleep 2
  done
}

# The host part of a URL: https://[fd00::1]:2380 -> fd00::1.
url_host() {
  local h=${1#*://}
  h=${h%:*}
  h=${h#[}
  echo "${h%]}"
}

# --- Steps on a member, each one remote call. ---

member_stop() { remote "$1" "systemctl stop $(shq "$UNIT")"; }
# Enabled as well, so that the member comes back after a reboot (a member added by add-member.sh was never
# enabled by hand); not a blocking start: a member is ready only once it has joined its peers.
member_start() { remote "$1" "systemctl enable --quiet $(shq "$UNIT") && systemctl start --no-block $(shq "$UNIT")"; }

# Shell code for a member that sets d to the data dir, and aside to where data set aside for REASON
# goes: DATA_DIR.REASON-STAMP beside the data dir, or DATA_DIR/REASON-STAMP inside it when the data dir
# is a mount point of its own (a dedicated disk), so that setting aside is a rename on that disk, never
# a copy onto another (etcd only warns of the extra directory).
aside_sh() {
  printf '%s' "d=$(shq "$DATA_DIR")
if mountpoint -q \"\$d\" 2>/dev/null; then aside=\"\$d/\"$(shq "$1-$STAMP"); else aside=\"\$d.\"$(shq "$1-$STAMP"); fi"
}

# Moves etcd's data (DATA_DIR/member) aside, as aside_sh says: never deleted, so a wrong step can be
# undone. Delete those directories once the cluster is healthy again.
member_set_aside_data() {
  local host=$1 reason=$2
  remote "$host" "set -eu
$(aside_sh "$reason")
if [ -e \"\$d/member\" ]; then
  mkdir -m 0700 \"\$aside\"
  mv \"\$d/member\" \"\$aside/\"
  echo \"set aside the old data in \$aside\" >&2
fi
install -d -o $(shq "$ETCD_USER") -g $(shq "$ETCD_GROUP") -m 0700 \"\$d\""
}

# The unit's second EnvironmentFile: start with initial-cluster-state=existing and the members etcd
# named when this one was added.
member_write_join_env() {
  local host=$1 initial_cluster=$2
  remote "$host" "set -eu
install -d -m 0700 $(shq "$(dirname -- "$JOIN_ENV")")
printf '%s\n' $(shq "# Written by $PROG at $STAMP; removed once the member has joined.") ETCD_INITIAL_CLUSTER_STATE=existing $(shq "ETCD_INITIAL_CLUSTER=$initial_cluster") >$(shq "$JOIN_ENV")"
}

member_remove_join_env() { remote "$1" "rm -f $(shq "$JOIN_ENV")"; }

# The new member's hex id and ETCD_INITIAL_CLUSTER from `member add`'s answer, on one line. etcdctl pads
# the id to 16 columns with spaces ("Member  688ee5c6782d8a8 added to cluster ...").
parse_member_add() {
  local id initial_cluster
  id=$(sed -n 's/^Member  *\([0-9a-f]*\) added.*/\1/p' <<<"$1")
  initial_cluster=$(sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<<"$1")
  echo "$id $initial_cluster"
}

# Adds NAME at its peer URL, starts it on HOST with an empty data dir, and waits until it has joined.
# The member's files must be deployed on HOST already. AS says how it joins:
# - learner (add-member.sh): no vote until promoted once it has caught up, so a member that never
#   comes up does not weigh on the quorum. Clients do not know its URL yet.
# - voter (replace-member.sh): the others make the quorum with or without it. A learner would refuse
#   every client request sent to it ("rpc not supported for learner"), and clients such as
#   kube-apiserver already send requests to this member's URL; a voting member listens for clients
#   only once it has joined.
join_member() {
  local name=$1 host=$2 peer_url=$3 as=$4 added id initial_cluster
  local -a flags=()
  [ "$as" = voter ] || flags=(--learner)
  member_stop "$host" || true
  member_set_aside_data "$host" "before-join"
  added=$(reconfigure add "$name" --peer-urls="$peer_url" "${flags[@]}") || die "$EXIT_FAILED" "member add $name failed"
  read -r id initial_cluster < <(parse_member_add "$added")
  if [ -z "$id" ] || [ -z "$initial_cluster" ]; then die "$EXIT_FAILED" "could not read member add's answer: $added"; fi
  say "added $name as $as $id; starting it on $host"
  member_write_join_env "$host" "$initial_cluster"
  member_start "$host"
  if [ "$as" = voter ]; then
    retry_within_wait healthy "${CLIENT_URL[$name]}" ||
      die "$EXIT_FAILED" "$name did not join within ${ETCD_GEN_WAIT:-120}s: check its log (journalctl -u $UNIT on $host)"
    say "$name has joined"
  else
    retry_within_wait ectl "$ENDPOINTS" member promote "$id" >/dev/null 2>&1 ||
      die "$EXIT_FAILED" "$name did not catch up within ${ETCD_GEN_WAIT:-120}s; it stays a learner (no vote): check its log (journalctl -u $UNIT on $host)"
    say "promoted $name to a voting member"
  fi
  member_remove_join_env "$host"
}
