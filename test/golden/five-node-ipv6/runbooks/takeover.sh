#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
require_tools openssl

usage() {
  cat <<USAGE
Usage: $PROG [--help] [--yes] [--old-unit NAME]

Moves every member of etcd cluster $CLUSTER, one at a time, from the manual procedure's layout (etcd as
root under the unit etcd3, from /etc/etcd.conf, with the certificates every member shares) to this
output's: its etcd.conf, the member's own certificates, and the unit $UNIT.service as user $ETCD_USER,
with the same data dir ($DATA_DIR), whose owner becomes $ETCD_USER. Build this output with
'etcd-gen import' first, so that it describes the running cluster and keeps its CA.

For each member, one stopped by an interrupted run first, then followers, the leader last, with every
other member healthy before each step and a quorum left while the member restarts: its files are installed beside the old ones; the old unit is
stopped and disabled; the data dir changes owner; $UNIT starts on the same data. Until every member
has moved, moved members also accept the procedure's shared peer certificate (through $JOIN_ENV,
which this runbook removes at the end). A member that does not come up under $UNIT is started again
under the old unit, and the run stops there, with the cluster serving.

Then, with every member moved, each member whose files differ from this output, or that still accepts
the shared peer certificate, gets this output's files and a restart, one at a time. Once it has seen
every member run $UNIT alone, it records that in $OUT_DIR/takeover.json: etcd-gen build --revoke
refuses to revoke the procedure's shared certificates until then. Revoke them after that, and roll the
revocation list out with rotate-certs.sh (or this runbook again). A revocation list in this output that
revokes a certificate a member still serves is refused before anything is touched.

Safe to run again after an interruption: it picks up where the members are.

Members: ${MEMBERS[*]}

  --yes             do not ask first
  --old-unit NAME   the procedure's unit (default etcd3)

Exit codes: 0 every member runs this output and the cluster is healthy; 1 a step failed; 2 usage; 3
refused (unhealthy, no quorum to spare, a member that is not the one this output describes, or a
revocation list that would cut a member off); 4 not confirmed.
USAGE
}

OLD_UNIT=etcd3
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    -y | --yes) YES=true ;;
    --old-unit)
      [ $# -ge 2 ] || usage_error "--old-unit needs a unit name"
      OLD_UNIT=$2
      shift
      ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
  shift
done
[[ $OLD_UNIT =~ ^[A-Za-z0-9@_.-]+$ ]] || usage_error "--old-unit: not a unit name: $OLD_UNIT"
[ "$OLD_UNIT" != "$UNIT" ] || usage_error "--old-unit is this output's own unit ($UNIT)"
require_admin_pki

RELAX_MARK="# etcd-gen takeover: accept the procedure's shared peer certificate until every member has moved"

for m in "${MEMBERS[@]}"; do
  for f in "${INSTALL_FILES[@]}"; do
    src="$OUT_DIR/nodes/$m/root$f"
    [ -r "$src" ] && continue
    [ -e "$src.age" ] && die "$EXIT_USAGE" "$src is age-encrypted: decrypt the keys under nodes/ first (age -d), and delete the plaintext afterwards"
    die "$EXIT_USAGE" "$src is missing: run this from the output etcd-gen built, with its keys"
  done
done

# Where member $1 is: old (the procedure's unit runs), new (ours runs), or down; plus relaxed when its
# join env file still lets the shared peer certificate in.
member_state() {
  remote "${MEMBER_HOST[$1]}" "if systemctl is-active --quiet $(shq "$OLD_UNIT"); then echo old
elif systemctl is-active --quiet $(shq "$UNIT"); then echo new
else echo down; fi
if [ -f $(shq "$JOIN_ENV") ] && grep -qxF $(shq "$RELAX_MARK") $(shq "$JOIN_ENV"); then echo relaxed; fi"
}

# Installs this output's files on member $1 (staged beside each target, then renamed over it) and
# creates the etcd user. Prints changed when any file's contents, owner or mode changed.
install_files() {
  local m=$1 f d script
  script="set -eu
s=\$(mktemp -d)
trap 'rm -rf \"\$s\"' EXIT
tar -xf - -C \"\$s\" --no-same-owner --no-same-permissions
id $(shq "$ETCD_USER") >/dev/null 2>&1 || useradd --system --user-group --home-dir $(shq "$DATA_DIR") --no-create-home --shell /usr/sbin/nologin $(shq "$ETCD_USER")
changed=
put() {
  f=\$1 owner=\$2 mode=\$3
  if [ -f \"\$f\" ] && cmp -s \"\$s\$f\" \"\$f\" && [ \"\$(stat -c '%U:%G %a' \"\$f\")\" = \"\$owner \${mode#0}\" ]; then return 0; fi
  cp \"\$s\$f\" \"\$f.etcd-gen-new\"
  chown \"\$owner\" \"\$f.etcd-gen-new\"
  chmod \"\$mode\" \"\$f.etcd-gen-new\"
  mv -f \"\$f.etcd-gen-new\" \"\$f\"
  changed=1
}"
  for d in "${INSTALL_DIRS[@]}"; do
    [ "$d" = "$DATA_DIR" ] && continue
    script="$script
install -d -o $(shq "${DIR_OWNER[$d]%%:*}") -g $(shq "${DIR_OWNER[$d]#*:}") -m $(shq "${DIR_MODE[$d]}") $(shq "$d")"
  done
  for f in "${INSTALL_FILES[@]}"; do
    script="$script
put $(shq "$f") $(shq "${FILE_OWNER[$f]}") $(shq "${FILE_MODE[$f]}")"
  done
  script="$script
if [ -n \"\$changed\" ]; then systemctl daemon-reload; echo changed; else echo unchanged; fi"
  tar -C "$OUT_DIR/nodes/$m/root" -cf - . | remote "${MEMBER_HOST[$m]}" "$script"
}

# Refuses to touch member $1 unless the cluster knows it at this output's peer URL, the others make a
# quorum without it, and its host has etcd data in DATA_DIR.
check_member() {
  local m=$1
  load_live_members
  [ -n "${LIVE_ID[$m]:-}" ] || die "$EXIT_REFUSED" "the running cluster has no member $m: build this output from the running cluster (etcd-gen import --member-list)"
  [ "${LIVE_PEER[$m]}" = "${PEER_URL[$m]}" ] ||
    die "$EXIT_REFUSED" "$m runs with peer URL ${LIVE_PEER[$m]}, not ${PEER_URL[$m]}: build this output from the running cluster (etcd-gen import --member-list)"
  count_voting "$m"
  [ "$HEALTHY_OTHERS" -ge "$(quorum_of "$VOTING")" ] ||
    die "$EXIT_REFUSED" "only $HEALTHY_OTHERS of the $VOTING voting members other than $m are healthy: moving $m would cost the quorum; bring them back first"
  remote "${MEMBER_HOST[$m]}" "[ -d $(shq "$DATA_DIR/member") ]" ||
    die "$EXIT_REFUSED" "$m has no etcd data in $DATA_DIR on ${MEMBER_HOST[$m]}: is paths.data the procedure's data dir? (etcd-gen import --data-dir)"
}

# Waits until every member but $1 answers healthy: $1 may be the one an interrupted run left stopped.
wait_healthy_except() {
  local deadline=$((SECONDS + ${ETCD_GEN_WAIT:-120})) n bad
  while :; do
    bad=""
    if ! read_live_members 2>/dev/null; then
      bad="(no quorum yet)"
    else
      for n in "${LIVE_NAMES[@]}"; do
        [ "$n" = "$1" ] && continue
        if [ -z "${LIVE_CLIENT[$n]}" ] || ! healthy "${LIVE_CLIENT[$n]}"; then bad="$bad $n"; fi
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

# When member $1 leads, hands leadership to a healthy voting member first: the leader's own shutdown
# stalled writes for seconds in the test (2 of 259 timed out after 5s), a handover does not.
hand_over_leadership() {
  local m=$1 status n target=""
  status=$(ectl "${CLIENT_URL[$m]}" endpoint status -w fields 2>/dev/null) || return 0
  [ "$(status_field "$status" Leader)" = "$(status_field "$status" MemberID)" ] || return 0
  read_live_members || return 0
  for n in "${LIVE_NAMES[@]}"; do
    [ "$n" != "$m" ] && [ "${LIVE_LEARNER[$n]}" != true ] && [ -n "${LIVE_CLIENT[$n]}" ] && healthy "${LIVE_CLIENT[$n]}" && { target=$n; break; }
  done
  [ -n "$target" ] || return 0
  if ectl "${CLIENT_URL[$m]}" move-leader "${LIVE_ID[$target]}" >/dev/null 2>&1; then
    say "$m: handed leadership to $target"
  else
    say "$m: could not hand leadership to $target; going on (the cluster elects a new leader)"
  fi
}

move_member() {
  local m=$1 host=${MEMBER_HOST[$1]}
  check_member "$m"
  install_files "$m" >/dev/null || die "$EXIT_FAILED" "installing this output's files on $m failed; $m still runs $OLD_UNIT"
  remote "$host" "set -eu
install -d -m 0700 $(shq "$(dirname -- "$JOIN_ENV")")
printf '%s\n' $(shq "$RELAX_MARK") ETCD_PEER_CERT_ALLOWED_CN= >$(shq "$JOIN_ENV")" ||
    die "$EXIT_FAILED" "writing $JOIN_ENV on $m failed; $m still runs $OLD_UNIT"
  hand_over_leadership "$m"
  say "$m: stopping $OLD_UNIT, starting $UNIT as $ETCD_USER on the same data"
  remote "$host" "set -eu
systemctl stop $(shq "$OLD_UNIT")
systemctl disable $(shq "$OLD_UNIT") 2>/dev/null || true
chown -R $(shq "$ETCD_USER:$ETCD_GROUP") $(shq "$DATA_DIR")
chmod 0700 $(shq "$DATA_DIR")
systemctl daemon-reload
systemctl enable $(shq "$UNIT")
systemctl start --no-block $(shq "$UNIT")" || say "a step of the move on $m failed; checking whether it is up"
  if ! retry_within_wait healthy "${CLIENT_URL[$m]}"; then
    say "$m did not become healthy under $UNIT within ${ETCD_GEN_WAIT:-120}s; starting $OLD_UNIT again"
    remote "$host" "systemctl stop $(shq "$UNIT"); systemctl disable $(shq "$UNIT") 2>/dev/null; systemctl enable $(shq "$OLD_UNIT") 2>/dev/null; systemctl start $(shq "$OLD_UNIT")" ||
      say "starting $OLD_UNIT on $m failed too"
    die "$EXIT_FAILED" "$m was not moved: see its log (journalctl -u $UNIT on $host); the other members were not touched"
  fi
  wait_healthy || die "$EXIT_FAILED" "the cluster is not healthy after moving $m: runbooks/health.sh; the members after it were not touched"
  say "$m: moved"
}

# Members now: where each is, and the leader (last, so that the cluster elects a leader once at most).
declare -A STATE=() RELAXED=()
silent=() followers=() leader=""
for m in "${MEMBERS[@]}"; do
  state=$(member_state "$m") || die "$EXIT_REFUSED" "cannot reach $m at ${MEMBER_HOST[$m]}"
  STATE[$m]=$(head -n 1 <<<"$state")
  RELAXED[$m]=false
  if grep -qx relaxed <<<"$state"; then RELAXED[$m]=true; fi
  status=$(ectl "${CLIENT_URL[$m]}" endpoint status -w fields 2>/dev/null) || { silent+=("$m"); continue; }
  if [ "$(status_field "$status" Leader)" = "$(status_field "$status" MemberID)" ]; then leader=$m; else followers+=("$m"); fi
done
# A member that does not answer (left stopped by an interrupted run) first: the others wait for it.
order=("${silent[@]}" "${followers[@]}")
[ -z "$leader" ] || order+=("$leader")

# A revocation list in this output that revokes what a member still serves (the procedure's shared
# certificates, built with --revoke before the move) would cut that member off as it is installed.
refuse_revoked_in_use "Move them first with runbooks/takeover.sh of a build without this revocation (the output from before etcd-gen build --revoke), then run this one."

to_move=()
for m in "${order[@]}"; do [ "${STATE[$m]}" = new ] || to_move+=("$m"); done
if [ ${#to_move[@]} -gt 0 ]; then
  confirm "move ${to_move[*]} from $OLD_UNIT to $UNIT, one at a time (then restart every member once more without the shared peer certificate)"
  for m in "${to_move[@]}"; do
    wait_healthy_except "$m" || die "$EXIT_REFUSED" "the members other than $m are not all healthy; stopped before $m"
    move_member "$m"
    STATE[$m]=new
    RELAXED[$m]=true
  done
else
  confirm "every member runs $UNIT: install this output's files where they differ, and restart those members one at a time"
fi

# Every member runs this output's unit: bring each to exactly this output's files, without the relaxation.
for m in "${order[@]}"; do
  wait_healthy || die "$EXIT_REFUSED" "the cluster is not healthy; stopped before $m"
  result=$(install_files "$m") || die "$EXIT_FAILED" "installing this output's files on $m failed"
  if [ "$result" = unchanged ] && [ "${RELAXED[$m]}" = false ]; then
    say "$m: up to date"
    continue
  fi
  hand_over_leadership "$m"
  say "$m: restarting $UNIT with this output's files"
  remote "${MEMBER_HOST[$m]}" "set -eu
if [ -f $(shq "$JOIN_ENV") ] && grep -qxF $(shq "$RELAX_MARK") $(shq "$JOIN_ENV"); then rm -f $(shq "$JOIN_ENV"); fi
systemctl restart $(shq "$UNIT")" || die "$EXIT_FAILED" "restarting etcd on $m failed"
  retry_within_wait healthy "${CLIENT_URL[$m]}" || die "$EXIT_FAILED" "$m is not healthy after its restart: see its log (journalctl -u $UNIT on ${MEMBER_HOST[$m]})"
  wait_healthy || die "$EXIT_FAILED" "the cluster is not healthy after $m; the members after it were not touched"
done
# What etcd-gen build --revoke asks for before it revokes the procedure's shared certificates: every
# member seen running this output's unit, none of them still accepting the shared peer certificate.
for m in "${MEMBERS[@]}"; do
  state=$(member_state "$m") || die "$EXIT_FAILED" "cannot reach $m at ${MEMBER_HOST[$m]}"
  [ "$state" = new ] || die "$EXIT_FAILED" "$m is not running $UNIT alone from this output (${state//$'\n'/, }): run this again"
done
record="$OUT_DIR/takeover.json"
printf '{"generator":"etcd-gen runbooks/takeover.sh","cluster":"%s","unit":"%s","moved":[%s],"at":"%s"}\n' "$CLUSTER" "$UNIT" "$(printf '"%s",' "${MEMBERS[@]}" | sed 's/,$//')" "$STAMP" >"$record.tmp"
chmod 0644 "$record.tmp"
mv -f "$record.tmp" "$record"
say "recorded in $record: every member has moved (etcd-gen build --revoke reads it before it revokes the procedure's shared certificates)"
say "done: every member runs $UNIT from this output. The procedure's /etc/etcd.conf, unit file and shared certificates are left in place: revoke the certificates (etcd-gen build --revoke), roll the list out (runbooks/rotate-certs.sh), then delete them."
