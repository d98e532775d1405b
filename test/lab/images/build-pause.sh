#!/usr/bin/env bash
# Builds the lab's pause image (pause.c, static) as a docker-archive tar that `ctr images import`
# takes, named registry.k8s.io/pause:3.10 as containerd's sandbox_image says. No registry.
# Cached by the hash of this script and pause.c; prints the tar's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LVS_CACHE:-$HOME/.cache/lvs-operator}/lab-images
hash=$(cat "$0" "$here/pause.c" | sha256sum | cut -c1-12)
# A private buildah store beside the tar, emptied after each build (not /var/lib/containers).
B() { buildah --root "$cache/storage" --runroot /run/lvs-lab-images --storage-driver vfs "$@"; }
tar=$cache/pause-$hash.tar
if [[ ! -s $tar ]]; then
  mkdir -p "$cache"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  gcc -Os -static -o "$work/pause" "$here/pause.c"
  strip "$work/pause"
  ctr=$(B from scratch)
  B copy "$ctr" "$work/pause" /pause > /dev/null
  B config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  B commit -q --rm "$ctr" "localhost/lvs-lab/pause:$hash" > /dev/null
  rm -f "$cache"/pause-*.tar
  B push -q "localhost/lvs-lab/pause:$hash" "docker-archive:$tar.tmp:registry.k8s.io/pause:3.10"
  B rmi -f "localhost/lvs-lab/pause:$hash" > /dev/null
  mv "$tar.tmp" "$tar"
fi
echo "$tar"
