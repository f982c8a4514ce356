#!/usr/bin/env bash
# Written by etcd-gen build, the same for every cluster (cluster.sh holds the facts). Do not edit: etcd-gen build replaces it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
require_tools sha256sum

usage() {
  cat <<USAGE
Usage: $PROG [--help] [--yes] [--token TOKEN] SNAPSHOT

Disaster recovery: rebuilds the whole etcd cluster $CLUSTER from one snapshot (runbooks/snapshot.sh
makes them). Everything written after the snapshot is lost.

Before you start, stop every kube-apiserver that uses this cluster (on each control-plane node, move
/etc/kubernetes/manifests/kube-apiserver.yaml out of the manifests directory), so nothing writes to a
cluster that is about to go back in time. Start them again when this runbook has finished.

Steps: check SNAPSHOT ($SNAPSHOT_TOOL snapshot status, and SNAPSHOT.sha256 when present); stop etcd on
every member; copy SNAPSHOT to each; restore it there with the member's own name, peer URL and the
initial cluster of this output, under a new cluster token (default: $CLUSTER_TOKEN-restored-<UTC time>),
into an empty data dir (the old data is set aside beside it, renamed, never deleted); start every
member and wait until all are healthy.
$(if [ "$RESTORE_BUMPS_REVISION" = true ]; then
  echo "etcd $ETCD_VERSION's etcdutl also moves the revision $REVISION_BUMP forward and marks the old revisions"
  echo "compacted, so Kubernetes' watches and caches never see revisions go back."
else
  echo "etcd $ETCD_VERSION cannot move the revision forward on restore (3.5.10 and later can): after it,"
  echo "restart every kube-apiserver, controller-manager, scheduler and kubelet, whose caches are newer than the data."
fi)

  --yes           do not ask before stopping the cluster
  --token TOKEN   the new cluster's initial cluster token

Exit codes: 0 restored and healthy; 1 a step failed; 2 usage or a bad snapshot; 3 refused (a member
lacks the restore tool or the room for it; nothing was stopped); 4 not confirmed.
USAGE
}

snapshot="" token="$CLUSTER_TOKEN-restored-$STAMP"
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    -y | --yes) YES=true ;;
    --token) [ $# -ge 2 ] || usage_error "--token needs a value"; token=$2; shift ;;
    -*) usage_error "unknown option: $1" ;;
    *) [ -z "$snapshot" ] || usage_error "one SNAPSHOT only"; snapshot=$1 ;;
  esac
  shift
done
[ -n "$snapshot" ] || usage_error "which snapshot? give the file runbooks/snapshot.sh wrote"
[ -f "$snapshot" ] || usage_error "$snapshot: no such file"
[[ $token =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || usage_error "--token: use letters, digits, '.', '_' and '-' only"
require_admin_pki
require_snapshot_tool

if [ -f "$snapshot.sha256" ]; then
  (cd -- "$(dirname -- "$snapshot")" && sha256sum --quiet -c -- "$(basename -- "$snapshot").sha256") ||
    die "$EXIT_USAGE" "$snapshot does not match $snapshot.sha256: it was changed or cut short since it was saved"
fi
snapshot_tool snapshot status "$snapshot" -w table || die "$EXIT_USAGE" "$snapshot is not a good etcd snapshot"

restore_flags=""
[ "$RESTORE_BUMPS_REVISION" = true ] && restore_flags="--bump-revision $REVISION_BUMP --mark-compacted"
initial_cluster=""
for m in "${MEMBERS[@]}"; do initial_cluster="$initial_cluster${initial_cluster:+,}$m=${PEER_URL[$m]}"; done

# Before anything is stopped: every member has the restore tool, and room on its data dir's disk for
# the snapshot twice (the copy, and the data restored from it).
need_kib=$((($(stat -c %s -- "$snapshot") * 2 + 1023) / 1024))
for m in "${MEMBERS[@]}"; do
  remote "${MEMBER_HOST[$m]}" "set -eu
tool=$(shq "$BIN_DIR/$SNAPSHOT_TOOL")
[ -x \"\$tool\" ] || { echo \"\$tool not found\" >&2; exit 1; }
d=$(shq "$DATA_DIR")
[ -d \"\$d\" ] || d=\$(dirname \"\$d\")
free=\$(df -Pk \"\$d\" | awk 'NR == 2 { print \$4 }')
[ \"\$free\" -ge $need_kib ] || { echo \"\$free KiB free, $need_kib KiB needed\" >&2; exit 1; }" ||
    die "$EXIT_REFUSED" "$m (${MEMBER_HOST[$m]}) cannot take the restore in $DATA_DIR; nothing was stopped"
done

confirm "STOP every kube-apiserver using $CLUSTER first. Then: stop etcd on ${MEMBERS[*]}, replace the data of every member with $snapshot (old data set aside), and start them as a new cluster with token $token"

for m in "${MEMBERS[@]}"; do
  say "stopping etcd on $m (${MEMBER_HOST[$m]})"
  member_stop "${MEMBER_HOST[$m]}" || die "$EXIT_FAILED" "could not stop etcd on $m; nothing was restored yet: start the stopped members again (systemctl start $UNIT)"
done

for m in "${MEMBERS[@]}"; do
  host=${MEMBER_HOST[$m]}
  say "restoring $m on $host"
  # The snapshot and the data restored from it are staged where data is set aside: on the data dir's disk.
  remote "$host" "set -eu
$(aside_sh restore)
umask 077
cat >\"\$aside.db\"" <"$snapshot" || die "$EXIT_FAILED" "copying the snapshot to $m failed"
  member_set_aside_data "$host" "before-restore"
  remote "$host" "set -eu
$(aside_sh restore)
tmp=\$aside snap=\$aside.db
tool=$(shq "$BIN_DIR/$SNAPSHOT_TOOL")
rm -rf \"\$tmp\"
ETCDCTL_API=3 \"\$tool\" snapshot restore \"\$snap\" --name $(shq "$m") --initial-cluster $(shq "$initial_cluster") \\
  --initial-cluster-token $(shq "$token") --initial-advertise-peer-urls $(shq "${PEER_URL[$m]}") \\
  --data-dir \"\$tmp\" $restore_flags
mv \"\$tmp/member\" \"\$d/member\"
rmdir \"\$tmp\"
rm -f \"\$snap\" $(shq "$JOIN_ENV")
chown -R $(shq "$ETCD_USER:$ETCD_GROUP") \"\$d\"" || die "$EXIT_FAILED" "restoring on $m failed; its old data is in before-restore-$STAMP beside $DATA_DIR (inside it where it is a mount point)"
done

for m in "${MEMBERS[@]}"; do
  member_start "${MEMBER_HOST[$m]}" || die "$EXIT_FAILED" "could not start etcd on $m"
done
say "waiting for every member to be healthy"
wait_healthy || die "$EXIT_FAILED" "the restored cluster is not healthy: runbooks/health.sh, and each member's log (journalctl -u $UNIT)"
ectl "$ENDPOINTS" endpoint status -w table
say "restored $CLUSTER from $snapshot. Start the kube-apiservers again. Old data is in before-restore-$STAMP beside $DATA_DIR on each member (inside it where it is a mount point): delete it once you are satisfied."
[ "$RESTORE_BUMPS_REVISION" = true ] || say "etcd $ETCD_VERSION did not move the revision forward: restart every kube-apiserver, controller-manager, scheduler and kubelet now"
