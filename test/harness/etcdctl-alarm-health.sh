#!/usr/bin/env bash
# Test stand-in for etcdctl, given to the runbooks as ETCDCTL_BIN: the real etcdctl, except that
# `endpoint health` also fails while any alarm is raised, as etcdctl does from 3.5 on (the etcdctl
# 3.4 the tests run does not). Runbooks that pass with it do not rely on 3.4's leniency.
set -uo pipefail
args=("$@") alarm_args=() skip=false
for a in "${args[@]}"; do
  if $skip; then skip=false; continue; fi
  case $a in
    endpoint) ;;
    health) alarm_args+=(alarm list) ;;
    -w) skip=true ;;
    -w=* | --write-out=*) ;;
    *) alarm_args+=("$a") ;;
  esac
done
# Only `endpoint health` differs; anything else is etcdctl's own.
[[ " ${args[*]} " == *" endpoint health "* ]] || exec etcdctl "$@"
etcdctl "$@" || exit
alarms=$(etcdctl "${alarm_args[@]}") || exit
if [ -n "$alarms" ]; then
  echo "unhealthy: Active Alarm(s): $alarms" >&2
  exit 1
fi
