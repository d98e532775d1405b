#!/usr/bin/env bash
# End-to-end suite on a kind cluster, for users with Docker (the project's build machines
# have no Docker engine, so this script has not been run there):
#   1. build the image from the repository's Dockerfile,
#   2. create a kind cluster (e2e/kind/kind-config.yaml: 1 control plane + 3 workers),
#   3. load the image into the nodes, install the CRDs and the Helm chart,
#   4. run `npm run test:e2e` against that cluster's kubeconfig,
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

# helm install creates CRDs only on first install and never upgrades them: apply them first.
log "installing CRDs and the chart"
kubectl apply --server-side --force-conflicts -f "$root/charts/lvs-operator/crds/"
kubectl wait --for=condition=Established --timeout=60s \
  crd/directorgroups.lvs.dev crd/virtualservices.lvs.dev crd/realservers.lvs.dev
kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace "$namespace" --overwrite pod-security.kubernetes.io/enforce=privileged
helm upgrade --install lvs-operator "$root/charts/lvs-operator" \
  --namespace "$namespace" \
  --values "$here/values.yaml" \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" \
  --wait --timeout 5m
kubectl -n "$namespace" rollout status deployment/lvs-operator-controller --timeout=120s
kubectl -n "$namespace" rollout status daemonset/lvs-operator-agent --timeout=180s

log "running the end-to-end suite against $kubeconfig"
cd "$root"
LVS_E2E_KUBECONFIG=$kubeconfig npm run test:e2e
log "passed"
