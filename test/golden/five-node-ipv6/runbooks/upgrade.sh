#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
require_tools curl sha256sum

usage() {
  cat <<USAGE
Usage: $PROG [--help] [--yes] [--tarball FILE]

Moves every member of etcd cluster $CLUSTER to etcd $ETCD_VERSION, the release this output was built
for, one member at a time: one step of the path 'etcd-gen plan' prints. First a snapshot, saved and
checked (snapshot.sh); every member must be healthy and no alarm raised. Then, followers first and the
leader last (leadership moved away first): install etcd $ETCD_VERSION (etcd.install from:
$INSTALL_FROM) and this output's etcd.conf and unit on the member, restart it, and wait until it is
healthy, runs $ETCD_VERSION, lists the same members as the others, and has caught up with the leader's
raft index. The first problem stops it, with the cluster serving. At the end the cluster version must
have moved. A minor downgrade goes through etcd's downgrade API first (etcdctl downgrade validate and
enable, from 3.$DOWNGRADE_API_SINCE_MINOR). Run again after an interruption: members on $ETCD_VERSION
are skipped, and a member it left stopped goes first.

Run it with the etcdctl (and etcdutl) of $ETCD_VERSION; a downgrade needs an etcdctl with the
downgrade command (3.$DOWNGRADE_API_SINCE_MINOR or later).

  --yes            do not ask first
  --tarball FILE   a release tarball of etcd $ETCD_VERSION here, sent to each member instead of each
                   member fetching ${TARBALL_URL:-one} (with etcd.install from: none, the way to
                   install; checked against etcd.install.sha256 when cluster.yaml pins one)

Exit codes: 0 every member runs $ETCD_VERSION and the cluster is healthy; 1 a step failed (the cluster
serves; run again once fixed); 2 usage or files missing; 3 refused (a member down, an alarm, a release
etcd does not allow moving from); 4 not confirmed.
USAGE
}

tarball=""
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    -y | --yes) YES=true ;;
    --tarball)
      [ $# -gt 1 ] || usage_error "--tarball needs a FILE"
      tarball=$2
      shift
      ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
  shift
done
require_admin_pki
require_snapshot_tool
if [ -n "$tarball" ]; then
  [ -r "$tarball" ] || usage_error "$tarball is not a readable file"
  if [ -n "$TARBALL_SHA256" ] && ! printf '%s  %s\n' "$TARBALL_SHA256" "$tarball" | sha256sum -c --strict --quiet - >/dev/null 2>&1; then
    die "$EXIT_USAGE" "$tarball does not have the SHA-256 cluster.yaml pins for etcd $ETCD_VERSION ($TARBALL_SHA256)"
  fi
fi
for m in "${MEMBERS[@]}"; do
  for f in "$CONF_FILE" "$UNIT_FILE"; do
    [ -r "$OUT_DIR/nodes/$m/root$f" ] || die "$EXIT_USAGE" "$OUT_DIR/nodes/$m/root$f is missing: run this from the output etcd-gen built"
  done
done

# A member the runbook is working on carries this file (on tmpfs, beside the join env file) until it is
# healthy on the target again: a rerun finds the member it left stopped.
MARKER="$(dirname -- "$JOIN_ENV")/upgrading"
TARGET_MINOR=$(cut -d. -f2 <<<"$ETCD_VERSION")

# Negative, zero or positive as release $1 is older than, the same as, or newer than $2 (3.minor.patch).
release_cmp() {
  local a b
  IFS=. read -r -a a <<<"$1"
  IFS=. read -r -a b <<<"$2"
  echo $(((${a[1]:-0} - ${b[1]:-0}) * 100000 + ${a[2]:-0} - ${b[2]:-0}))
}

# The cluster version (3.minor.0) a member reports at /version, or nothing.
cluster_version() {
  curl -fsS --max-time 5 --cacert "$ADMIN_PKI/ca.crt" --cert "$ADMIN_PKI/admin.crt" --key "$ADMIN_PKI/admin.key" "$1/version" 2>/dev/null |
    sed -n 's/.*"etcdcluster":"\([0-9.]*\)".*/\1/p'
}
cluster_version_is() { [ "$(cluster_version "$1")" = "$2" ]; }

# Fills VERSION_OF, ID_OF (hex), RAFT_OF by member, LEADER (a member name, or empty) and SILENT (members
# that do not answer), from each member's `endpoint status`.
declare -A VERSION_OF=() ID_OF=() RAFT_OF=() STATUS_SAID=()
read_status() {
  local m status leader_id=""
  LEADER="" SILENT=()
  for m in "${MEMBERS[@]}"; do
    # With its errors: they say why a member does not answer; the fields are lines of their own.
    if ! status=$(ectl "${CLIENT_URL[$m]}" endpoint status -w fields 2>&1); then
      STATUS_SAID[$m]=$(etcdctl_said "$status")
      SILENT+=("$m")
      VERSION_OF[$m]=""
      continue
    fi
    VERSION_OF[$m]=$(status_field "$status" Version)
    ID_OF[$m]=$(printf '%x' "$(status_field "$status" MemberID)")
    RAFT_OF[$m]=$(status_field "$status" RaftIndex)
    leader_id=$(printf '%x' "$(status_field "$status" Leader)")
  done
  for m in "${MEMBERS[@]}"; do
    [ -n "${ID_OF[$m]:-}" ] && [ "${ID_OF[$m]}" = "$leader_id" ] && LEADER=$m
  done
  return 0
}

# The member ids (hex, sorted, one line) that the member at URL lists.
member_ids_of() {
  ectl "$1" member list -w simple 2>/dev/null | cut -d, -f1 | tr -d ' ' | sort | tr '\n' ' '
}

# Whether member $1 carries the marker of an interrupted run for this release.
marked() { [ "$(remote "${MEMBER_HOST[$1]}" "cat $(shq "$MARKER") 2>/dev/null || true")" = "$ETCD_VERSION" ]; }

read_status
interrupted=()
for m in "${SILENT[@]}"; do
  marked "$m" || die "$EXIT_REFUSED" "$m does not answer (etcdctl said: ${STATUS_SAID[$m]}): upgrade only a cluster whose every member is up; bring $m back (runbooks/health.sh), or rebuild it with runbooks/replace-member.sh $m first"
  interrupted+=("$m")
done
[ "${#interrupted[@]}" -le 1 ] || die "$EXIT_REFUSED" "${interrupted[*]} do not answer: an upgrade stops one member at a time; bring them back first"

# Where the members are now, against where this step may go (etcd's rules, src/etcd/upgrade.ts).
todo=()
running_minor=""
for m in "${MEMBERS[@]}"; do
  v=${VERSION_OF[$m]}
  [ -n "$v" ] || continue
  [ "$v" = "$ETCD_VERSION" ] && continue
  todo+=("$m")
  minor=$(cut -d. -f2 <<<"$v")
  running_minor=$minor
  if [ "$minor" -lt $((TARGET_MINOR - 1)) ]; then
    die "$EXIT_REFUSED" "$m runs etcd $v: etcd moves one minor release at a time, and $ETCD_VERSION skips one; 'etcd-gen plan' lists the path"
  fi
  if [ "$minor" -eq $((TARGET_MINOR - 1)) ] && [ -n "$MINIMUM_BEFORE" ] && [ "$(release_cmp "$v" "$MINIMUM_BEFORE")" -lt 0 ]; then
    die "$EXIT_REFUSED" "$m runs etcd $v: every member must run $MINIMUM_BEFORE or later before 3.$TARGET_MINOR (etcd's upgrade guide); build and run this for $MINIMUM_BEFORE or later first"
  fi
  if [ "$minor" -gt $((TARGET_MINOR + 1)) ]; then
    die "$EXIT_REFUSED" "$m runs etcd $v: a downgrade goes one minor release at a time"
  fi
done
todo=("${interrupted[@]}" "${todo[@]}")

first_up=""
for m in "${MEMBERS[@]}"; do
  [ -n "${VERSION_OF[$m]}" ] && first_up=$m && break
done
[ -n "$first_up" ] || die "$EXIT_REFUSED" "no member of $CLUSTER answers"
cluster_before=$(cluster_version "${CLIENT_URL[$first_up]}")

if [ "${#todo[@]}" -eq 0 ]; then
  say "every member runs etcd $ETCD_VERSION (cluster version ${cluster_before:-unknown}); nothing to install"
  retry_within_wait cluster_version_is "${CLIENT_URL[$first_up]}" "3.$TARGET_MINOR.0" ||
    die "$EXIT_FAILED" "every member runs $ETCD_VERSION, but the cluster version is ${cluster_before:-unknown}, not 3.$TARGET_MINOR.0"
  exit 0
fi

DOWNGRADE=false
if [ -n "$cluster_before" ] && [ "$(cut -d. -f2 <<<"$cluster_before")" -gt "$TARGET_MINOR" ]; then
  DOWNGRADE=true
  [ "$(cut -d. -f2 <<<"$cluster_before")" -ge "$DOWNGRADE_API_SINCE_MINOR" ] ||
    die "$EXIT_REFUSED" "cluster version $cluster_before has no downgrade API: the way back is a new cluster of $ETCD_VERSION restored from a snapshot (runbooks/restore.sh of its output)"
  # Read whole, then matched: grep -q closing the pipe early would fail the pipeline (pipefail).
  ctl_help=$("$etcdctl_bin" --help 2>/dev/null) || true
  grep -q '^ *downgrade' <<<"$ctl_help" ||
    die "$EXIT_USAGE" "this etcdctl has no downgrade command: run the downgrade with an etcdctl of 3.$DOWNGRADE_API_SINCE_MINOR or later (ETCDCTL_BIN=...)"
fi

# Every member healthy, no alarm, and the members as every one of them lists them.
for m in "${MEMBERS[@]}"; do
  for i in "${interrupted[@]}"; do [ "$m" = "$i" ] && continue 2; done
  healthy "${CLIENT_URL[$m]}" || die "$EXIT_REFUSED" "$m is not healthy (etcdctl said: ${UNHEALTHY_SAID[${CLIENT_URL[$m]}]}); nothing was changed"
done
if ! alarms=$(ectl "$ENDPOINTS" alarm list 2>&1); then die "$EXIT_REFUSED" "alarm list failed: $(etcdctl_said "$alarms")"; fi
[ -z "${alarms//[[:space:]]/}" ] || die "$EXIT_REFUSED" "alarms are raised ($alarms): clear them first (runbooks/defrag.sh for NOSPACE); nothing was changed"
members_before=$(member_ids_of "${CLIENT_URL[$first_up]}")

confirm "move $CLUSTER from etcd ${running_minor:+3.$running_minor }to $ETCD_VERSION$([ "$DOWNGRADE" = true ] && echo " (a downgrade, through etcd's downgrade API)"): ${todo[*]} one at a time, the leader last, after a snapshot"

snapshot_file="$CLUSTER-before-$ETCD_VERSION-$STAMP.db"
"$RUNBOOKS_DIR/snapshot.sh" "$snapshot_file" >/dev/null || die "$EXIT_FAILED" "the snapshot before the upgrade failed; nothing was changed"
say "snapshot saved and checked: $snapshot_file (the way back if this goes wrong: runbooks/restore.sh in an output of the release it was taken on)"

if [ "$DOWNGRADE" = true ]; then
  said=$(ectl "$ENDPOINTS" downgrade validate "3.$TARGET_MINOR" 2>&1) || die "$EXIT_REFUSED" "etcd refuses the downgrade to 3.$TARGET_MINOR: $(etcdctl_said "$said")"
  # enable is refused once a downgrade is on (a run interrupted after it): that is the one we finish.
  said=$(ectl "$ENDPOINTS" downgrade enable "3.$TARGET_MINOR" 2>&1) || grep -qi 'already' <<<"$said" ||
    die "$EXIT_FAILED" "downgrade enable 3.$TARGET_MINOR failed: $(etcdctl_said "$said")"
  say "downgrade to 3.$TARGET_MINOR enabled; waiting for the cluster version to go down"
  retry_within_wait cluster_version_is "${CLIENT_URL[$first_up]}" "3.$TARGET_MINOR.0" ||
    die "$EXIT_FAILED" "the cluster version did not go down to 3.$TARGET_MINOR.0; nothing was installed (etcdctl downgrade cancel undoes the step)"
fi

# Installs etcd $ETCD_VERSION on member $1 by etcd.install's route (or --tarball), then its etcd.conf and
# unit; the running etcd keeps its binary until restarted.
install_release() {
  local m=$1 host=${MEMBER_HOST[$1]} check_sha="" fetch put_files
  put_files="set -eu
b=$(shq "$BIN_DIR") t=\$(mktemp -d)
trap 'rm -rf \"\$t\"' EXIT"
  if [ -n "$tarball" ] || [ "$INSTALL_FROM" = tarball ]; then
    [ -z "$TARBALL_SHA256" ] || check_sha="printf '%s  %s\\n' $(shq "$TARBALL_SHA256") \"\$t/etcd.tar\" | sha256sum -c --strict --quiet - || { echo 'the tarball does not have the pinned SHA-256; nothing was installed' >&2; exit 1; }"
    if [ -n "$tarball" ]; then fetch="cat >\"\$t/etcd.tar\""; else fetch="curl -fsSL --retry 3 -o \"\$t/etcd.tar\" $(shq "$TARBALL_URL")"; fi
    local bins="" b
    for b in "${ETCD_BINARIES[@]}"; do bins="$bins \"\$t/x\"/$(shq "$b")"; done
    put_files="$put_files
$fetch
$check_sha
mkdir \"\$t/x\"
tar -xf \"\$t/etcd.tar\" -C \"\$t/x\" --strip-components=1 --no-same-owner
install -d -m 0755 \"\$b\"
for f in$bins; do install -m 0755 -o root -g root \"\$f\" \"\$b/.\$(basename \"\$f\").new\" && mv -f \"\$b/.\$(basename \"\$f\").new\" \"\$b/\$(basename \"\$f\")\"; done"
  elif [ "$INSTALL_FROM" = package ]; then
    put_files="$put_files
DEBIAN_FRONTEND=noninteractive apt-get install -y ${ETCD_PACKAGES[*]}"
  fi
  put_files="$put_files
\"\$b/etcd\" --version | grep -qx $(shq "etcd Version: $ETCD_VERSION") || { echo \"\$b/etcd is not etcd $ETCD_VERSION: install it there (etcd.install is $INSTALL_FROM; or pass --tarball)\" >&2; exit 1; }"
  if [ -n "$tarball" ]; then
    remote "$host" "$put_files" <"$tarball" || return 1
  else
    remote "$host" "$put_files" </dev/null || return 1
  fi
  local conf_name unit_name
  conf_name=$(basename -- "$CONF_FILE")
  unit_name=$(basename -- "$UNIT_FILE")
  tar -cf - -C "$OUT_DIR/nodes/$m/root$(dirname -- "$CONF_FILE")" "$conf_name" -C "$OUT_DIR/nodes/$m/root$(dirname -- "$UNIT_FILE")" "$unit_name" |
    remote "$host" "set -eu
s=\$(mktemp -d $(shq "$(dirname -- "$CONF_FILE")/.upgrade.XXXXXX"))
tar -xmf - -C \"\$s\" --no-same-owner --no-same-permissions
chown $(shq "$CONF_OWNER") \"\$s\"/$(shq "$conf_name") && chmod $(shq "$CONF_MODE") \"\$s\"/$(shq "$conf_name")
mv -f \"\$s\"/$(shq "$conf_name") $(shq "$CONF_FILE")
chown $(shq "$UNIT_OWNER") \"\$s\"/$(shq "$unit_name") && chmod $(shq "$UNIT_MODE") \"\$s\"/$(shq "$unit_name")
mv -f \"\$s\"/$(shq "$unit_name") $(shq "$UNIT_FILE")
rmdir \"\$s\"
systemctl daemon-reload"
}

# Member $1 answers healthy on $ETCD_VERSION, and has applied what the leader had when it came back.
caught_up() {
  local m=$1 status v idx lead
  status=$(ectl "${CLIENT_URL[$m]}" endpoint status -w fields 2>/dev/null) || return 1
  v=$(status_field "$status" Version)
  [ "$v" = "$ETCD_VERSION" ] || return 1
  idx=$(status_field "$status" RaftAppliedIndex)
  [ -n "$idx" ] || idx=$(status_field "$status" RaftIndex)
  lead=$2
  [ "${idx:-0}" -ge "$lead" ]
}

# Followers first, the leader last (a member left stopped by an interrupted run before them all).
order=()
for m in "${todo[@]}"; do [ "$m" = "$LEADER" ] || order+=("$m"); done
for m in "${todo[@]}"; do [ "$m" = "$LEADER" ] && order+=("$m"); done

for m in "${order[@]}"; do
  read_status
  if [ "$m" = "$LEADER" ]; then
    # Hand leadership to a member that runs the target (or any other healthy one) before stopping it.
    to=""
    for n in "${MEMBERS[@]}"; do
      [ "$n" != "$m" ] && [ "${VERSION_OF[$n]}" = "$ETCD_VERSION" ] && to=$n && break
    done
    if [ -z "$to" ]; then for n in "${MEMBERS[@]}"; do [ "$n" != "$m" ] && [ -n "${VERSION_OF[$n]}" ] && to=$n && break; done; fi
    if [ -n "$to" ]; then
      said=$(ectl "${CLIENT_URL[$m]}" move-leader "${ID_OF[$to]}" 2>&1) || die "$EXIT_FAILED" "moving leadership from $m to $to failed: $(etcdctl_said "$said"); nothing was installed on $m"
      say "leadership moved from $m to $to"
    fi
  fi
  remote "${MEMBER_HOST[$m]}" "mkdir -p $(shq "$(dirname -- "$MARKER")") && printf '%s\n' $(shq "$ETCD_VERSION") >$(shq "$MARKER")" || die "$EXIT_FAILED" "$m cannot be reached: nothing was installed there"
  install_release "$m" || die "$EXIT_FAILED" "installing etcd $ETCD_VERSION on $m failed (its etcd still runs the old release); fix that and run this again"
  say "$m: etcd $ETCD_VERSION, etcd.conf and the unit installed; restarting"
  remote "${MEMBER_HOST[$m]}" "systemctl restart $(shq "$UNIT")" || die "$EXIT_FAILED" "restarting etcd on $m failed: check its log (journalctl -u $UNIT on ${MEMBER_HOST[$m]})"
  retry_within_wait healthy "${CLIENT_URL[$m]}" ||
    die "$EXIT_FAILED" "$m is not healthy on etcd $ETCD_VERSION after ${ETCD_GEN_WAIT:-120}s (etcdctl said: ${UNHEALTHY_SAID[${CLIENT_URL[$m]}]}): check its log (journalctl -u $UNIT on ${MEMBER_HOST[$m]}); the other members serve"
  read_status
  lead_index=0
  [ -z "$LEADER" ] || lead_index=${RAFT_OF[$LEADER]:-0}
  retry_within_wait caught_up "$m" "$lead_index" ||
    die "$EXIT_FAILED" "$m answers but has not caught up with the leader's raft index $lead_index, or does not run $ETCD_VERSION: check its log"
  # A member that lists members the others do not has brought back removed ones: etcd's "zombie members"
  # (https://etcd.io/blog/2025/zombie_members_upgrade/), the reason for 3.5.26 before 3.6.
  seen=$(member_ids_of "${CLIENT_URL[$m]}")
  if [ "$seen" != "$members_before" ]; then
    die "$EXIT_FAILED" "$m lists the members $seen, the cluster listed $members_before before: zombie members (https://etcd.io/blog/2025/zombie_members_upgrade/); stop here, and remove the members that should not be there (etcdctl member remove) before the next member"
  fi
  wait_healthy || die "$EXIT_FAILED" "the cluster is not healthy after $m: runbooks/health.sh; the members after it were not touched"
  remote "${MEMBER_HOST[$m]}" "rm -f $(shq "$MARKER")" || true
  say "$m: runs etcd $ETCD_VERSION, healthy and caught up"
done

# The leader moves the cluster version once every member runs the new release.
retry_within_wait cluster_version_is "${CLIENT_URL[$first_up]}" "3.$TARGET_MINOR.0" ||
  die "$EXIT_FAILED" "every member runs $ETCD_VERSION, but the cluster version is $(cluster_version "${CLIENT_URL[$first_up]}"), not 3.$TARGET_MINOR.0"
say "done: every member of $CLUSTER runs etcd $ETCD_VERSION, cluster version 3.$TARGET_MINOR.0 (was ${cluster_before:-unknown}); snapshot from before: $snapshot_file"
