#!/usr/bin/env bash
# Fetch or build every etcd release of the test matrix (test/etcd-matrix.txt) into a cache outside the
# repository: $ETCD_GEN_CACHE/etcd/<version>/bin/{etcd,etcdctl,etcdutl}. ETCD_GEN_CACHE defaults to
# /var/cache/etcd-gen for root (the live tests run as root, and a unit's sandbox hides /root from etcd,
# so a generated paths.bin cannot point into a home directory) and to ~/.cache/etcd-gen otherwise.
#
# - `deb SUITE` rows: Debian's etcd-server and etcd-client .deb files of that suite, downloaded with
#   `apt-get download` against a sources list of our own (the system's apt setup is not touched) and
#   unpacked with `dpkg-deb -x`. Never installed.
# - `go` rows: built from etcd's own Go modules (go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3) through the
#   Go module proxy, by the small wrapper module in test/etcd-build/ (`go install pkg@version` refuses
#   modules whose go.mod has replace lines, as etcd's do).
#
# A release already in the cache, with a stamp that matches its `etcd --version` (and, for a `go` row, the
# wrapper module it was built with), is not fetched again.
# Any release that cannot be had fails the script (exit 1): a matrix release is never skipped in silence.
#
# Usage: scripts/etcd-fetch.sh [VERSION ...]   (default: every row of the matrix)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
matrix="$here/test/etcd-matrix.txt"
if [ "$(id -u)" -eq 0 ]; then cache="${ETCD_GEN_CACHE:-/var/cache/etcd-gen}"; else cache="${ETCD_GEN_CACHE:-$HOME/.cache/etcd-gen}"; fi
mkdir -p "$cache/etcd"

die() { echo "etcd-fetch: $*" >&2; exit 1; }

# The URI the system's apt uses for Debian's main archive: we reuse it for other suites rather than
# naming a mirror of our own.
debian_uri() {
  local uri
  uri=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 2>/dev/null |
    grep -v -- '-security' | sed -n 1p)
  [ -n "$uri" ] || uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -v -- '-security' | sed -n 1p)
  [ -n "$uri" ] || die "cannot tell which Debian archive apt uses (run 'apt-get update' first)"
  printf '%s\n' "${uri%/}"
}

# apt's own state for the suites we download from, apart from the system's.
apt_private() {
  local dir="$cache/apt" suites="$1"
  mkdir -p "$dir/lists/partial" "$dir/archives/partial"
  local uri list=""
  uri=$(debian_uri)
  for s in $suites; do
    list+="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $s main"$'\n'
  done
  printf '%s' "$list" >"$dir/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::lists=$dir/lists" -o "Dir::Cache::archives=$dir/archives"
    -o "Dir::Cache::pkgcache=$dir/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$dir/srcpkgcache.bin"
    -o "APT::Get::List-Cleanup=0" -o "APT::Default-Release=" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update -qq || die "apt-get update of suites '$suites' failed"
}

# What a `go` row was built with: a hash of the wrapper module (test/etcd-build/), kept in the stamp, so that
# a change of the wrapper (etcdctl's environment handling, say) builds those releases again.
wrapper_key=$(cd "$here/test/etcd-build" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)

stamp_ok() { # VERSION [HOW]: the cached binaries are whole, say they are VERSION, and (go) match the wrapper
  local d="$cache/etcd/$1" said
  if [ "${2:-}" = go ]; then grep -qx "wrapper $wrapper_key" "$d/.complete" 2>/dev/null || return 1; fi
  # The version is read whole before it is matched: grep -q stops at the first match, and etcd writing its
  # next line into the closed pipe would fail the pipeline (pipefail), so a good cache would look stale.
  [ -f "$d/.complete" ] && [ -x "$d/bin/etcd" ] && [ -x "$d/bin/etcdctl" ] &&
    said=$("$d/bin/etcd" --version 2>/dev/null) && grep -q "^etcd Version: $1\$" <<<"$said"
}

fetch_deb() { # VERSION SUITE
  local v="$1" suite="$2" d="$cache/etcd/$1" work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  local pkg ver
  for pkg in etcd-server etcd-client; do
    ver=$(apt-cache "${apt_opts[@]}" madison "$pkg" | awk -v s="$suite" -F' *\\| *' \
      '$3 ~ ("/" s "/") || $3 ~ (" " s "/") {print $2; exit}')
    [ -n "$ver" ] || die "$pkg: not found in Debian $suite"
    case "$ver" in "$v"|"$v"-*|"$v"+*) ;; *) die "$pkg in Debian $suite is $ver, the matrix wants $v: update test/etcd-matrix.txt";; esac
    (cd "$work" && apt-get "${apt_opts[@]}" download -qq "$pkg=$ver") || die "apt-get download $pkg=$ver failed"
  done
  rm -rf "$d" && mkdir -p "$d/bin" "$d/root"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$d/root"; done
  for tool in etcd etcdctl etcdutl; do
    if [ -x "$d/root/usr/bin/$tool" ]; then ln -s "../root/usr/bin/$tool" "$d/bin/$tool"; fi
  done
}

fetch_go() { # VERSION
  local v="$1" d="$cache/etcd/$1" minor work
  minor=$(printf '%s' "$v" | cut -d. -f1,2 | tr . _)
  [ -f "$here/test/etcd-build/etcdutl/root_$minor.go" ] || die "no etcdutl command set for $v in test/etcd-build/etcdutl"
  command -v go >/dev/null || die "go is needed to build etcd $v from its modules"
  work="$cache/build/$v"
  rm -rf "$work" && mkdir -p "$work"
  cp -r "$here/test/etcd-build/." "$work/"
  (
    cd "$work"
    export GOTOOLCHAIN=local GOFLAGS=-mod=mod
    printf 'module etcd-gen.test/etcd-build\n\ngo 1.26\n' >go.mod
    go get "go.etcd.io/etcd/server/v3@v$v" "go.etcd.io/etcd/etcdctl/v3@v$v" \
      "go.etcd.io/etcd/etcdutl/v3@v$v" "go.etcd.io/etcd/pkg/v3@v$v" >/dev/null 2>&1 ||
      go get "go.etcd.io/etcd/server/v3@v$v" "go.etcd.io/etcd/etcdctl/v3@v$v" \
        "go.etcd.io/etcd/etcdutl/v3@v$v" "go.etcd.io/etcd/pkg/v3@v$v"
    go mod tidy 2>/dev/null || go mod tidy
    mkdir -p bin
    go build -tags "etcd$minor" -trimpath -o bin/ ./etcd ./etcdctl ./etcdutl
  ) || die "building etcd $v from its Go modules failed"
  rm -rf "$d" && mkdir -p "$d"
  mv "$work/bin" "$d/bin"
  rm -rf "$work"
}

want=("$@")
rows=()
while read -r v how suite; do
  case "$v" in ''|'#'*) continue;; esac
  if [ ${#want[@]} -gt 0 ]; then
    wanted=false
    for w in "${want[@]}"; do [ "$w" = "$v" ] && wanted=true; done
    $wanted || continue
  fi
  rows+=("$v $how ${suite:-}")
done <"$matrix"
[ ${#want[@]} -eq 0 ] || [ ${#rows[@]} -eq ${#want[@]} ] || die "not in test/etcd-matrix.txt: ${want[*]}"

suites=$(for r in "${rows[@]}"; do
  set -- $r
  if [ "$2" = deb ] && ! stamp_ok "$1"; then echo "$3"; fi
done | sort -u | tr '\n' ' ')
[ -z "${suites// /}" ] || apt_private "$suites"

for r in "${rows[@]}"; do
  set -- $r
  v="$1"
  if stamp_ok "$v" "$2"; then echo "etcd $v: cached"; continue; fi
  echo "etcd $v: fetching ($2${3:+ $3})"
  case "$2" in
    deb) fetch_deb "$v" "$3" ;;
    go) fetch_go "$v" ;;
    *) die "test/etcd-matrix.txt: unknown source '$2' for $v (deb SUITE or go)" ;;
  esac
  got=$("$cache/etcd/$v/bin/etcd" --version 2>&1 | sed -n 1p)
  [ "$got" = "etcd Version: $v" ] || die "etcd $v: the binary says '$got'"
  "$cache/etcd/$v/bin/etcdctl" version >/dev/null 2>&1 || die "etcd $v: etcdctl does not run"
  { date -u +%FT%TZ; [ "$2" != go ] || echo "wrapper $wrapper_key"; } >"$cache/etcd/$v/.complete"
  echo "etcd $v: ready in $cache/etcd/$v/bin"
done
