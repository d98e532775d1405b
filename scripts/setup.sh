#!/usr/bin/env bash
# Installs what the demo, the tests and the benchmarks need on a fresh Debian machine of this kind:
# Debian packages (User-Mode Linux with IPVS modules, ipvsadm and keepalived as reference peers)
# and the npm dependencies. Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(user-mode-linux kmod iproute2 ipvsadm keepalived openssl linux-libc-dev procps)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# UML bind-mounts its modules here from inside the lab; the host only needs the mount point.
mkdir -p /lib/modules

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi
