#!/usr/bin/env bash
# Test stand-in for systemctl on a host of test/live/takeover.test.ts, for any unit under
# /etc/systemd/system: start runs its ExecStart (continuation lines joined, ${VAR} expanded from its
# EnvironmentFiles, read in order, a leading '-' making one optional, as systemd does) as its User
# (root when none), without a sandbox, in the background, its output in $ETCD_GEN_TEST_LOG-UNIT.log and
# its pid in /run/etcd-gen/.units/UNIT.pid. enable and disable record the choice; daemon-reload does nothing; show gives MainPID only.
set -euo pipefail
words=() now=false
for a in "$@"; do
  case $a in
    --no-block | --quiet | -q | --value) ;;
    -p) ;;
    --now) now=true ;;
    *) words+=("$a") ;;
  esac
done
verb=${words[0]:-}
unit=${words[1]:-}
unit=${unit%.service}
state=/run/etcd-gen/.units
mkdir -p "$state"
pidfile=$state/$unit.pid
unit_file=/etc/systemd/system/$unit.service
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
stop() {
  running || return 0
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid" || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" || true
  rm -f "$pidfile"
}
start() {
  running && return 0
  [ -f "$unit_file" ] || { echo "Unit $unit.service not found." >&2; return 5; }
  local exec_start env_files user
  exec_start=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$unit_file" | sed -n 's/^ExecStart=//p')
  env_files=$(sed -n 's/^EnvironmentFile=//p' "$unit_file")
  user=$(sed -n 's/^User=//p' "$unit_file")
  (
    # systemd hands a unit none of the caller's environment: no ETCD_* of the test or the runbook.
    while read -r name; do unset "$name"; done < <(compgen -e | grep '^ETCD')
    set -a
    while read -r file; do
      [ -n "$file" ] || continue
      case $file in -*) file=${file#-}; [ -f "$file" ] || continue ;; esac
      # shellcheck disable=SC1090
      . "$file"
    done <<<"$env_files"
    set +a
    eval "set -- $exec_start"
    if [ -n "$user" ] && [ "$user" != root ]; then
      exec setsid setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --clear-groups -- "$@"
    fi
    exec setsid "$@"
  ) >>"$ETCD_GEN_TEST_LOG-$unit.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}
case $verb in
  daemon-reload) ;;
  enable) touch "$state/$unit.enabled" ;;
  disable) rm -f "$state/$unit.enabled"; if $now; then stop; fi ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  is-active) running ;;
  is-enabled) [ -f "$state/$unit.enabled" ] ;;
  # `show -p MainPID --value UNIT` (rotate-certs.sh reads the running etcd's settings from its environ).
  show)
    unit=${words[${#words[@]} - 1]%.service}
    pidfile=$state/$unit.pid
    if running; then cat "$pidfile"; else echo 0; fi
    ;;
  *) echo "systemctl (test stand-in): $verb is not supported" >&2; exit 1 ;;
esac
