#!/usr/bin/env bash
# The lab kernel: Debian 12's linux-source-6.1 built as User-Mode Linux with the host-XSAVE fix
# (fp-size.patch), a fix for a UML hang when BPF programs are freed (bpf-lock-ro.patch) and lab.config, cached outside the repo keyed by what it is built from:
#   ${LVS_CACHE:-$HOME/.cache/lvs-operator}/uml/<source version>-<hash>/{linux,modules/lib/modules/<release>,release}
# Debian's prebuilt user-mode-linux panics at its first user process on hosts with AMX (its
# XSAVE buffer is too small for them), so the lab never uses it: see docs/testing.md.
#
#   build.sh ensure   build if missing (~6 min on 2 cores), boot once, print the kernel dir
#   build.sh path     print the kernel dir if it is built (exit 1 if not); no build, no boot
#   build.sh check    boot the built kernel once with a trivial init (one-line reason on failure)
#
# Needs the Debian packages linux-source-6.1 flex bison bc libelf-dev gcc make (setup.sh installs them).
# Progress goes to stderr; the last line on stdout is the kernel dir.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${LVS_CACHE:-$HOME/.cache/lvs-operator}/uml
tarball=/usr/src/linux-source-6.1.tar.xz
log() { echo "lab-kernel: $*" >&2; }
die() { echo "lab-kernel: $*" >&2; exit 1; }

source_version() {
  dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || die "Debian package linux-source-6.1 is not installed (bash scripts/setup.sh installs it)"
}
# Bump when a change to this script changes what it builds (comments and messages do not).
recipe=1
# The patches, applied in name order: fp-size.patch (hosts with AMX), bpf-lock-ro.patch (no
# kernel-wide TLB flush on every BPF program freed).
patches() { printf '%s\n' "$here"/*.patch | sort; }
recipe_hash() { { cat $(patches) "$here/lab.config"; echo "recipe $recipe"; } | sha256sum | cut -c1-12; }
kernel_dir() { echo "$cache/$(source_version)-$(recipe_hash)"; }

build() {
  local out=$1 version tree patch_stamp start=$SECONDS
  version=$(source_version)
  [[ -r $tarball ]] || die "$tarball missing (reinstall linux-source-6.1)"
  # One source tree per (source version, patch), reused across config changes: a config change
  # rebuilds only what it touches.
  patch_stamp="$version-$(cat $(patches) | sha256sum | cut -c1-12)"
  tree=$cache/build/linux-source-6.1
  if [[ "$(cat "$cache/build/.stamp" 2>/dev/null)" != "$patch_stamp" ]]; then
    log "unpacking linux-source-6.1 $version"
    rm -rf "$cache/build"
    mkdir -p "$cache/build"
    tar -C "$cache/build" -xJf "$tarball"
    for p in $(patches); do patch -s -d "$tree" -p1 <"$p"; done
    echo "$patch_stamp" >"$cache/build/.stamp"
  fi
  log "configuring (ARCH=um defconfig + scripts/lab-kernel/lab.config)"
  (cd "$tree" && make -s ARCH=um defconfig >/dev/null &&
    scripts/kconfig/merge_config.sh -m .config "$here/lab.config" >/dev/null &&
    make -s ARCH=um olddefconfig >/dev/null)
  local missing=()
  while IFS= read -r line; do
    if [[ $line =~ ^#\ (CONFIG_[A-Z0-9_]+)\ is\ not\ set$ ]]; then
      ! grep -q "^${BASH_REMATCH[1]}=" "$tree/.config" || missing+=("$line")
    elif [[ $line == CONFIG_* ]]; then
      grep -qx "$line" "$tree/.config" || missing+=("$line")
    fi
  done <"$here/lab.config"
  ((${#missing[@]} == 0)) || die "these lab.config lines did not stick (a dependency is missing): ${missing[*]}"
  log "building linux (ARCH=um) with $(nproc) jobs; about 6 minutes on 2 cores, log: $cache/build/build.log"
  if ! make -C "$tree" ARCH=um -j"$(nproc)" linux modules >"$cache/build/build.log" 2>&1; then
    tail -n 20 "$cache/build/build.log" >&2
    die "kernel build failed; full log: $cache/build/build.log"
  fi
  local tmp; tmp=$(mktemp -d "$cache/.new.XXXXXX")
  cp "$tree/linux" "$tmp/linux"
  make -s -C "$tree" ARCH=um modules_install INSTALL_MOD_PATH="$tmp/modules" >/dev/null
  make -s -C "$tree" ARCH=um kernelrelease >"$tmp/release"
  cp "$tree/.config" "$tmp/config"
  rm -rf "$out"
  mv "$tmp" "$out"
  log "built $(cat "$out/release") in $((SECONDS - start)) s: $out"
}

# Boots the kernel with an init that only proves a user process runs, then halts. The fault
# this guards against (a host whose XSAVE area the kernel cannot restore) kills the first one.
check() {
  local dir=$1 run rc=0 reason
  [[ -x $dir/linux ]] || die "no kernel at $dir (run: bash scripts/lab-kernel/build.sh ensure)"
  run=$(mktemp -d /var/tmp/lvs-lab-check.XXXXXX)
  trap 'rm -rf "$run"' RETURN
  cat >"$run/init" <<EOF
#!/bin/sh
/bin/uname -r > $run/ran
/sbin/halt -f
EOF
  chmod +x "$run/init"
  timeout 60 "$dir/linux" mem=128M rootfstype=hostfs rootflags=/ rw quiet "init=$run/init" \
    con=null con0=fd:0,fd:1 </dev/null >"$run/console" 2>&1 || rc=$?
  if [[ ! -s $run/ran ]]; then
    reason=$(grep -m1 -E 'Kernel panic|ptrace|failed|error' "$run/console" || true)
    [[ -n $reason ]] || reason=$(grep -v '^\s*$' "$run/console" | tail -n 1)
    die "the lab kernel $dir/linux cannot run a user process on this host (status $rc): ${reason:-no console output}"
  fi
  log "kernel $(cat "$run/ran") runs user processes on this host"
}

cmd=${1:-ensure}
case $cmd in
  path)
    dir=$(kernel_dir)
    [[ -x $dir/linux ]] || die "the lab kernel is not built (run: bash scripts/setup.sh)"
    echo "$dir"
    ;;
  check) check "$(kernel_dir)" ;;
  ensure)
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock -n 9 || { log "another build holds $cache/.lock, waiting"; flock 9; }
    dir=$(kernel_dir)
    [[ -x $dir/linux ]] || build "$dir"
    check "$dir"
    echo "$dir"
    ;;
  *) die "usage: build.sh ensure|path|check" ;;
esac
