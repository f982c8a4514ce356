#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
require_tools openssl

usage() {
  cat <<USAGE
Usage: $PROG [--help] [--yes] [--all-at-once]

Installs the certificates, keys and etcd.conf of this output on every member of etcd cluster
$CLUSTER, one member at a time (the leader last), after 'etcd-gen build --renew', a step of
'--rotate-ca', or any build that changed etcd.conf. etcd reads its certificate and key again for
every new connection, so new leaf certificates take effect without a restart. It reads its trusted
CAs (ca.crt) and its settings (the peer CN it accepts, the TLS policy: etcd.conf) only at start, so a
member is restarted when ca.crt changed or is newer than the running etcd, or when the settings the
running etcd was started with differ from etcd.conf. Before the first member and after each one, the
cluster must be healthy and every member must accept every other member's peer certificate on a new
connection (needs openssl on the members); the first refusal stops it, before the next member.

Then install kubernetes/ on every control-plane node; admin/pki/ is used from here already.

  --yes           do not ask first
  --all-at-once   for a cluster that is down because its CA expired ('etcd-gen build --rotate-ca'
                  replaced it): install on every member, then restart them all together. Refused
                  while a quorum of members answers with this output's certificates.

Exit codes: 0 every member has this output's certificates and the cluster is healthy; 1 a step
failed; 2 usage or keys missing here; 3 refused (unhealthy, or up with --all-at-once); 4 not
confirmed.
USAGE
}

ALL_AT_ONCE=false
# kube-apiserver reads its etcd CA bundle only at start, and its client certificate at each new connection
# (README.md, Kubernetes).
KUBERNETES_NEXT="Now install kubernetes/root/ on the control-plane nodes, and restart kube-apiserver there one at a time when kubernetes/ changed (it reads the etcd CA bundle only at start, and a new client certificate only on a new connection)."
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    -y | --yes) YES=true ;;
    --all-at-once) ALL_AT_ONCE=true ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
  shift
done
require_admin_pki

for m in "${MEMBERS[@]}"; do
  for f in "${PKI_FILES[@]}"; do
    src="$OUT_DIR/nodes/$m/root$PKI_DIR/$f"
    [ -r "$src" ] && continue
    [ -e "$src.age" ] && die "$EXIT_USAGE" "$src is age-encrypted: decrypt the keys under nodes/ first (age -d), and delete the plaintext afterwards"
    die "$EXIT_USAGE" "$src is missing: run this from the output etcd-gen built, with its keys"
  done
done

# Installs this output's certificate files and etcd.conf on member $1: staged beside the old ones in one
# tar stream, and only the files that differ renamed over them (so ca.crt's time says when the trusted
# CAs last changed). Then compares what the running etcd was started with against what it must check
# now: etcd reads its trusted CAs and its settings (the peer CN it accepts, the TLS policy) only at
# start, and its own certificate and key again for every new connection. Prints why the member must
# restart ("the CA bundle changed; ..."), or "none".
install_member_files() {
  local m=$1 f install_lines="" conf_name
  conf_name=$(basename -- "$CONF_FILE")
  for f in "${PKI_FILES[@]}"; do
    install_lines="$install_lines
chown $(shq "${PKI_OWNER[$f]}") \"\$s\"/$(shq "$f") && chmod $(shq "${PKI_MODE[$f]}") \"\$s\"/$(shq "$f")
if cmp -s \"\$s\"/$(shq "$f") \"\$p\"/$(shq "$f"); then rm -f \"\$s\"/$(shq "$f"); else mv -f \"\$s\"/$(shq "$f") \"\$p\"/; fi"
  done
  tar -cf - -C "$OUT_DIR/nodes/$m/root$PKI_DIR" "${PKI_FILES[@]}" -C "$OUT_DIR/nodes/$m/root$(dirname -- "$CONF_FILE")" "$conf_name" |
    remote "${MEMBER_HOST[$m]}" "set -eu
p=$(shq "$PKI_DIR") c=$(shq "$CONF_FILE") j=$(shq "$JOIN_ENV")
s=\$(mktemp -d \"\$p/.rotate.XXXXXX\")
tar -xmf - -C \"\$s\" --no-same-owner --no-same-permissions
why=''
cmp -s \"\$s/ca.crt\" \"\$p/ca.crt\" || why=\"\$why; the CA bundle changed\"$install_lines
chown $(shq "$CONF_OWNER") \"\$s\"/$(shq "$conf_name") && chmod $(shq "$CONF_MODE") \"\$s\"/$(shq "$conf_name")
if cmp -s \"\$s\"/$(shq "$conf_name") \"\$c\"; then rm -f \"\$s\"/$(shq "$conf_name"); else mv -f \"\$s\"/$(shq "$conf_name") \"\$c\"; fi
rmdir \"\$s\"
pid=\$(systemctl show -p MainPID --value $(shq "$UNIT") 2>/dev/null) || pid=0
if [ -n \"\$pid\" ] && [ \"\$pid\" != 0 ] && [ -r \"/proc/\$pid/environ\" ]; then
  # The ETCD_* settings it was started with, against those its unit gives now (etcd.conf, then the
  # join env file); the initial-cluster ones are read only when a member is created, so left out.
  running=\$(tr '\\0' '\\n' <\"/proc/\$pid/environ\" | grep '^ETCD_' | grep -v '^ETCD_INITIAL_' | sort || true)
  wanted=\$(env -i sh -c 'set -a; . \"\$1\"; if [ -f \"\$2\" ]; then . \"\$2\"; fi; env' sh \"\$c\" \"\$j\" | grep '^ETCD_' | grep -v '^ETCD_INITIAL_' | sort || true)
  if [ \"\$running\" != \"\$wanted\" ]; then
    names=\$(printf '%s\\n%s\\n' \"\$running\" \"\$wanted\" | sort | uniq -u | sed 's/=.*//' | sort -u | tr '\\n' ' ')
    why=\"\$why; its running settings differ from etcd.conf (\${names% })\"
  fi
  started=\$((\$(date +%s) - \$(ps -o etimes= -p \"\$pid\")))
  # A second either way: etimes counts whole seconds.
  [ \"\$(stat -c %Y \"\$p/ca.crt\")\" -le \$((started + 1)) ] || why=\"\$why; ca.crt is newer than the running etcd\"
else
  why=\"\$why; etcd is not running\"
fi
if [ -n \"\$why\" ]; then echo \"\${why#; }\"; else echo none; fi"
}

refuse_revoked_in_use "Move them to this output's own certificates first (a member the manual procedure built: runbooks/takeover.sh), then run this again."

if [ "$ALL_AT_ONCE" = true ]; then
  up=0
  for m in "${MEMBERS[@]}"; do healthy "${CLIENT_URL[$m]}" && up=$((up + 1)); done
  [ "$up" -lt "$(quorum_of "${#MEMBERS[@]}")" ] ||
    die "$EXIT_REFUSED" "$up of ${#MEMBERS[@]} members answer with this output's certificates: the cluster is up, so install one member at a time (without --all-at-once)"
  confirm "the cluster is down: install this output's certificates on ${MEMBERS[*]}, then restart all of them together"
  for m in "${MEMBERS[@]}"; do
    install_member_files "$m" >/dev/null || die "$EXIT_FAILED" "installing the certificates on $m failed; run this again once $m is reachable"
    say "$m: certificates installed"
  done
  for m in "${MEMBERS[@]}"; do
    # Not a blocking restart: a member is ready only once a quorum is back, so each waits for the others.
    remote "${MEMBER_HOST[$m]}" "systemctl restart --no-block $(shq "$UNIT")" || die "$EXIT_FAILED" "restarting etcd on $m failed"
  done
  say "waiting for every member to be healthy"
  wait_healthy || die "$EXIT_FAILED" "the cluster is not healthy with the new certificates: runbooks/health.sh, and each member's log (journalctl -u $UNIT)"
  retry_within_wait peer_check || die "$EXIT_FAILED" "the cluster answers, but members refuse each other's peer certificates: $PEER_REFUSALS"
  say "done: every member has this output's certificates and the cluster is healthy. $KUBERNETES_NEXT"
  exit 0
fi

# Followers first, the leader last: one election at most, and only if a restart is needed.
# A member that does not answer (cut off from its peers, as a run that stopped at it leaves it) goes first:
# it adds nothing to the quorum now. The others must make a quorum on their own.
order=() leader="" silent=()
for m in "${MEMBERS[@]}"; do
  if ! status=$(ectl "${CLIENT_URL[$m]}" endpoint status -w fields 2>/dev/null); then silent+=("$m"); continue; fi
  if [ "$(status_field "$status" Leader)" = "$(status_field "$status" MemberID)" ]; then leader=$m; else order+=("$m"); fi
done
[ -z "$leader" ] || order+=("$leader")
[ "${#order[@]}" -ge "$(quorum_of "${#MEMBERS[@]}")" ] ||
  die "$EXIT_REFUSED" "${silent[*]} do not answer: only ${#order[@]} of ${#MEMBERS[@]} members do, fewer than a quorum; rotate certificates on a healthy cluster (if it is down because its CA expired, use --all-at-once)"
if [ "${#silent[@]}" -gt 0 ]; then
  say "${silent[*]} do(es) not answer; installing there first"
  order=("${silent[@]}" "${order[@]}")
fi

# Every member other than $1 in the live member list answers healthy.
others_healthy() {
  local n
  read_live_members 2>/dev/null || return 1
  for n in "${LIVE_NAMES[@]}"; do
    [ "$n" = "$1" ] && continue
    [ -n "${LIVE_CLIENT[$n]}" ] && healthy "${LIVE_CLIENT[$n]}" || return 1
  done
}

# Members that refuse their peers' certificates now (a run that stopped at one, or files installed by
# hand) go first: their running etcd differs from this output, and until it is restarted with this
# output's files it refuses every new connection from the others.
if ! peer_check; then
  say "members refuse each other's peer certificates now: $PEER_REFUSALS"
  first=()
  for m in "${order[@]}"; do
    for r in "${PEER_REFUSERS[@]}"; do [ "$r" = "$m" ] && first+=("$m") && break; done
  done
  [ "${#first[@]}" -gt 0 ] || die "$EXIT_REFUSED" "no member could be checked; nothing was installed: check that openssl is on every member and that they are reachable"
  rest=()
  for m in "${order[@]}"; do
    for r in "${first[@]}"; do [ "$r" = "$m" ] && continue 2; done
    rest+=("$m")
  done
  order=("${first[@]}" "${rest[@]}")
  say "installing on the members that refuse first: ${first[*]}"
fi

confirm "install this output's certificates and etcd.conf on ${order[*]}, one at a time"

for m in "${order[@]}"; do
  # Before a member, the others must be healthy; it may itself be the one cut off.
  retry_within_wait others_healthy "$m" || die "$EXIT_REFUSED" "the cluster is not healthy; stopped before $m"
  why=$(install_member_files "$m") || die "$EXIT_FAILED" "installing the certificates on $m failed"
  if [ "$why" != none ]; then
    say "$m: installed; restarting etcd: $why"
    # A blocking restart: etcd tells systemd it is ready once it has rejoined its running peers. The unit
    # has no start timeout (a member waiting for its peers must not be killed), so this run sets one.
    remote "${MEMBER_HOST[$m]}" "timeout ${ETCD_GEN_WAIT:-120} systemctl restart $(shq "$UNIT")" ||
      die "$EXIT_FAILED" "etcd on $m did not come back within ${ETCD_GEN_WAIT:-120}s of its restart (or the restart failed); the members after it were not touched: see journalctl -u $UNIT there, and run this again once it is healthy"
  else
    say "$m: installed; etcd uses the new certificates for new connections, and nothing it checks changed"
  fi
  if ! wait_healthy; then
    peer_check || true
    die "$EXIT_FAILED" "the cluster is not healthy after $m${PEER_REFUSALS:+ (refused: $PEER_REFUSALS)}; the members after it were not touched"
  fi
  retry_within_wait peer_check ||
    die "$EXIT_FAILED" "after $m, members refuse each other's peer certificates: $PEER_REFUSALS; the members after it were not touched: put back what $m had, or fix its files, and run this again"
  say "$m: healthy, and every member accepts every other's peer certificate"
done
say "done: every member has this output's certificates and etcd.conf, and accepts the others'. $KUBERNETES_NEXT"
