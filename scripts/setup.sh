#!/usr/bin/env bash
# Installs what the demo, the tests and the benchmarks need on a fresh Debian machine of this kind:
# Debian packages (the kernel source and tools to build the lab kernel, ipvsadm and keepalived as
# reference peers), the npm dependencies, and the lab kernel itself (scripts/lab-kernel/build.sh:
# Linux 6.1 built as User-Mode Linux, cached outside the repo, booted once to prove it runs a
# user process on this host). Idempotent and quiet when everything is already there. It never
# changes the machine's apt sources or its libc.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(linux-source-6.1 flex bison bc libelf-dev make gcc libc6-dev xz-utils patch util-linux
      kmod iproute2 ipvsadm keepalived openssl linux-libc-dev procps curl lua5.1 lua-cjson
      # Lab clusters of real nodes (test/lab/kube-node.sh): the container runtime, CNI plugins,
      # what kube-proxy runs; the product image and the lab's pause image (scripts/image/build.sh).
      containerd runc containernetworking-plugins iptables conntrack buildah mmdebstrap
      # kube-proxy in IPVS mode, the peer of bench:converge -- --peer kube-proxy, drives ipset.
      ipset
      # The health probes' kernel tests (test/kernel/health/): a real DNS server to query.
      dnsmasq-base
      # Packet captures in the kernel tests (gratuitous ARP timing against keepalived).
      tcpdump
      # The agent's source NAT for NAT services (src/nft/ drives the nft binary) and its tests.
      nftables
      # BIRD 2: the routing daemon the agent runs for DirectorGroups that announce over BGP, and
      # the router of the BGP lab (test/kernel/bgp/).
      bird2)
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
# The lab kernel bind-mounts its modules directory here; the host only needs the mount point.
mkdir -p /lib/modules

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi

bash scripts/lab-kernel/build.sh ensure >/dev/null

# kube-apiserver, etcd, kubectl, helm, and for the real-node lab kubelet, kube-proxy, the scheduler
# and the controller manager, kapply (kstatus), promtool (lints /metrics in the API tier) and krew
# (installs the kubectl plugin's archive in the API tier): built from Go modules once, then cached.
K8S_BINS_NODES=1 K8S_BINS_GITOPS=1 K8S_BINS_PROMTOOL=1 K8S_BINS_KREW=1 bash scripts/k8s-bins.sh >/dev/null
