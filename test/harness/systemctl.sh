#!/usr/bin/env bash
# Test stand-in for systemctl on a member (see member-shell.sh), for etcd's unit only: start runs the
# unit's ExecStartPre and ExecStartPost as root and its ExecStart as its User, with its EnvironmentFiles read in order (a leading '-' makes one
# optional), as systemd does, but without the sandbox, in the background with its output in
# $ETCD_GEN_TEST_LOG. $ETCD_GEN_TEST_EXEC_PREFIX goes before ExecStart (a tracer).
set -euo pipefail
unit_file=/etc/systemd/system/etcd.service
log=${ETCD_GEN_TEST_LOG:?}
words=() now=false
for a in "$@"; do
  case $a in
    --no-block | --quiet | -q) ;;
    --now) now=true ;;
    *) words+=("$a") ;;
  esac
done
verb=${words[0]:-}
user=$(sed -n 's/^User=//p' "$unit_file")
uid=$(id -u "$user")
running() { pgrep -u "$uid" -x etcd >/dev/null; }
stop() {
  pkill -TERM -u "$uid" -x etcd || true
  for _ in $(seq 100); do running || return 0; sleep 0.1; done
  pkill -KILL -u "$uid" -x etcd || true
}
start() {
  running && return 0
  local exec_start env_files
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit_file")
  env_files=$(sed -n 's/^EnvironmentFile=//p' "$unit_file")
  exec_pre=$(sed -n 's/^ExecStartPre=//p' "$unit_file")
  exec_post=$(sed -n 's/^ExecStartPost=//p' "$unit_file")
  (
    # systemd hands a unit none of the caller's variables: none of the harness's or the test runner's
    # ETCD_* variables may reach etcd either (it warns about every one it does not know).
    prefix=${ETCD_GEN_TEST_EXEC_PREFIX:-}
    while read -r name; do unset "$name"; done < <(compgen -e | grep '^ETCD')
    set -a
    while read -r file; do
      case $file in -*) file=${file#-}; [ -f "$file" ] || continue ;; esac
      # shellcheck disable=SC1090
      . "$file"
    done <<<"$env_files"
    set +a
    # ExecStartPre and ExecStartPost (the bootstrap guard) as root, as their '+' says: a failing
    # ExecStartPre keeps etcd from starting; ExecStartPost runs once etcd is ready (here: its metrics
    # URL answers /health), as systemd runs it after a Type=notify unit's READY=1.
    while read -r pre; do
      [ -n "$pre" ] || continue
      # shellcheck disable=SC2086
      ${pre#+} || { echo "systemctl (test stand-in): ExecStartPre failed with status $?" >&2; exit 1; }
    done <<<"$exec_pre"
    # shellcheck disable=SC2086
    setsid setpriv --reuid="$uid" --regid="$uid" --clear-groups -- $prefix $exec_start &
    main=$!
    if [ -n "$exec_post" ]; then
      for _ in $(seq 1200); do
        kill -0 "$main" 2>/dev/null || break
        if curl -fsS --max-time 2 "${ETCD_LISTEN_METRICS_URLS%%,*}/health" 2>/dev/null | grep -q '"health":"true"'; then
          while read -r post; do
            # shellcheck disable=SC2086
            [ -z "$post" ] || ${post#+} || true
          done <<<"$exec_post"
          break
        fi
        sleep 0.5
      done
    fi
    wait "$main"
  ) >>"$log" 2>&1 </dev/null &
}
case $verb in
  daemon-reload | enable) ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  disable) if $now; then stop; fi ;;
  is-active) running ;;
  show) pgrep -u "$uid" -x etcd | sed -n 1p | grep . || echo 0 ;;
  *) echo "systemctl (test stand-in): $verb is not supported" >&2; exit 1 ;;
esac
