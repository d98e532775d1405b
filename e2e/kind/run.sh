#!/usr/bin/env bash
# End-to-end suite on a kind cluster, for users with Docker (the project's build machines
# have no Docker engine, so this script has not been run there):
#   1. build the image from the repository's Dockerfile,
#   2. create a kind cluster (e2e/kind/kind-config.yaml: 1 control plane + 3 workers),
#   3. load the image into the nodes, install the CRDs and the Helm chart,
#   4. write a cluster file (e2e/cluster-config.ts) for it and run the Helm suite
#      e2e/cluster.test.ts against it (the suite installs the chart itself),
#   5. delete the cluster (KEEP_CLUSTER=1 keeps it for a post-mortem).
# Needs: docker, kind (>= 0.20, for node labels), kubectl, helm 3, node 20 with `npm ci` done.
# helm and kubectl may also come from scripts/k8s-bins.sh: LVS_K8S_BIN_DIR=<its output dir>.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster=${KIND_CLUSTER_NAME:-lvs-e2e}
image=${LVS_E2E_IMAGE:-lvs-operator:e2e}
namespace=lvs-system
workdir=$(mktemp -d "${TMPDIR:-/tmp}/lvs-e2e-kind.XXXXXX")
kubeconfig=$workdir/kubeconfig

log() { printf 'e2e/kind: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

if [[ -n ${LVS_K8S_BIN_DIR:-} ]]; then PATH=$LVS_K8S_BIN_DIR:$PATH; fi
for tool in docker kind kubectl helm npm; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH"
done
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"

cleanup() {
  local code=$?
  if [[ ${KEEP_CLUSTER:-} == 1 ]]; then
    log "keeping cluster $cluster (kubeconfig: $kubeconfig); delete it with: kind delete cluster --name $cluster"
  else
    kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
    rm -rf "$workdir"
  fi
  exit "$code"
}
trap cleanup EXIT

log "building $image"
docker build -t "$image" "$root"

if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  log "reusing cluster $cluster"
else
  log "creating cluster $cluster"
  kind create cluster --name "$cluster" --config "$here/kind-config.yaml" --wait 120s
fi
kind get kubeconfig --name "$cluster" >"$kubeconfig"
export KUBECONFIG=$kubeconfig

log "loading $image into the nodes"
kind load docker-image "$image" --name "$cluster"

# The suite's roles: 2 directors, 3 real servers (5 workers). VIPs: two free addresses at the top
# of the kind network; the client is this host (the network's gateway).
mapfile -t workers < <(kubectl get nodes -o name --selector='!node-role.kubernetes.io/control-plane' | sed 's|node/||' | sort)
(( ${#workers[@]} >= 5 )) || die "need 5 worker nodes, found ${#workers[@]}"
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
gateway=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -m1 '\.')
prefix=${gateway%.*}
dr_vip=$prefix.240 nat_vip=$prefix.241
# LVS-NAT: the pods' replies to the client must go back through the director holding the NAT VIP.
for n in "${workers[@]:2:3}"; do
  docker exec "$n" sh -c "ip rule add from 10.244.0.0/16 to $gateway/32 lookup 100 2>/dev/null; ip route replace $gateway/32 via $nat_vip table 100"
done
docker tag "$image" "${image%:*}:e2e-upgrade"
kind load docker-image "${image%:*}:e2e-upgrade" --name "$cluster"
cat >"$workdir/cluster.json" <<JSON
{
  "kubeconfig": "$kubeconfig",
  "image": { "repository": "${image%:*}", "tag": "${image##*:}", "upgradeTag": "e2e-upgrade", "pullPolicy": "Never" },
  "values": { "controller": { "replicas": 2 }, "agent": { "privileged": true, "loadModules": { "enabled": true } } },
  "directors": ["${workers[0]}", "${workers[1]}"],
  "interface": "eth0",
  "vips": { "dr": "$dr_vip", "nat": "$nat_vip" },
  "realServers": [
    { "node": "${workers[2]}", "address": "$(ip_of "${workers[2]}")" },
    { "node": "${workers[3]}", "address": "$(ip_of "${workers[3]}")" },
    { "node": "${workers[4]}", "address": "$(ip_of "${workers[4]}")" }
  ],
  "faults": {
    "crashNode": { "${workers[0]}": "docker kill ${workers[0]}", "${workers[1]}": "docker kill ${workers[1]}" },
    "apiDown": "docker pause $cluster-control-plane",
    "apiUp": "docker unpause $cluster-control-plane"
  }
}
JSON

log "running the Helm end-to-end suite against $workdir/cluster.json"
cd "$root"
E2E_CLUSTER=$workdir/cluster.json npx vitest run --project e2e e2e/cluster.test.ts
log "passed"
