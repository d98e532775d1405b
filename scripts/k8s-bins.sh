#!/usr/bin/env bash
# Builds kube-apiserver, kubectl, etcd and helm (and with K8S_BINS_NODES=1 kubelet, kube-proxy,
# kube-scheduler and kube-controller-manager, for the lab's real nodes; with K8S_BINS_GITOPS=1
# kapply, cli-utils' command line for kstatus; with K8S_BINS_PROMTOOL=1 promtool, which lints
# our /metrics; with K8S_BINS_KREW=1 krew as kubectl-krew, which installs our kubectl plugin in
# the API tier) from the Go modules pinned in
# scripts/k8s/{kubernetes,etcd,helm,cli-utils,promtool,krew}/go.{mod,sum} (no registry ships them as binaries
# for this machine) and caches them outside the repo, keyed by Kubernetes version:
#   ${LVS_CACHE:-$HOME/.cache/lvs-operator}/k8s/<k8s version>/{kube-apiserver,kubectl,etcd,helm,...}
# Idempotent: a binary is rebuilt only when its module pins change. Progress goes to
# stderr; the last line on stdout is the bin dir, so `dir=$(bash scripts/k8s-bins.sh)`.
# First run on 2 cores: ~13 minutes (see docs/testing-api.md); cached: a quarter second.
# K8S_BINS_SKIP_HELM=1 skips helm.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mods=$root/scripts/k8s
cache=${LVS_CACHE:-$HOME/.cache/lvs-operator}/k8s
mkdir -p "$cache"

log() { echo "k8s-bins: $*" >&2; }

go_bin=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x $go_bin ]] || { log "no Go toolchain (looked for go on PATH and /usr/local/go/bin/go)"; exit 1; }

# Module downloads and compiled packages live beside the binaries, so reruns and
# version bumps only compile what changed. -modcacherw keeps that cache deletable with rm.
export GOPATH=$cache/go GOCACHE=$cache/go-build GOMODCACHE=$cache/go/pkg/mod
export GOFLAGS="-trimpath -mod=readonly -modcacherw -buildvcs=false"
export CGO_ENABLED=0 GOTOOLCHAIN=local

# Version of a module as pinned in one of our go.mod files.
pinned() {
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$mods/$1/go.mod"
}

k8s_version=$(pinned kubernetes k8s.io/kubernetes)
etcd_version=$(pinned etcd go.etcd.io/etcd/server/v3)
helm_version=$(pinned helm helm.sh/helm/v3)
helm_k8s_version=$(pinned helm k8s.io/client-go)
cli_utils_version=$(pinned cli-utils sigs.k8s.io/cli-utils)
prometheus_version=$(pinned promtool github.com/prometheus/prometheus)
krew_version=$(pinned krew sigs.k8s.io/krew)
[[ -n $k8s_version && -n $etcd_version && -n $helm_version ]] || { log "cannot read versions from $mods/*/go.mod"; exit 1; }

bin_dir=$cache/$k8s_version
mkdir -p "$bin_dir"

# One build at a time per cache (vitest workers, parallel shells).
exec 9>"$cache/.lock"
if ! flock -n 9; then
  log "another build holds $cache/.lock, waiting"
  flock 9
fi

# A binary is current when its stamp matches the go.mod+go.sum it was built from.
stamp_of() { cat "$mods/$1/go.mod" "$mods/$1/go.sum" | sha256sum | cut -c1-16; }
current() { [[ -x $bin_dir/$2 && "$(cat "$bin_dir/.$2.stamp" 2>/dev/null)" == "$(stamp_of "$1")" ]]; }

# go build into a scratch dir, then move into place so a crash never leaves half a binary.
build() { # build <module dir> <ldflags> <name=package>...
  local dir=$1 ldflags=$2; shift 2
  local tmp; tmp=$(mktemp -d "$bin_dir/.build.XXXXXX")
  local pair name pkg start=$SECONDS
  for pair in "$@"; do
    name=${pair%%=*} pkg=${pair#*=}
    log "building $name from $pkg (module $dir) ..."
    (cd "$mods/$dir" && "$go_bin" build -ldflags="$ldflags" -o "$tmp/$name" "$pkg")
  done
  for pair in "$@"; do
    name=${pair%%=*}
    mv -f "$tmp/$name" "$bin_dir/$name"
    stamp_of "$dir" >"$bin_dir/.$name.stamp"
  done
  rmdir "$tmp"
  log "built $* in $((SECONDS - start))s"
}

log "kubernetes $k8s_version, etcd $etcd_version, helm $helm_version ($($go_bin env GOVERSION)); cache $cache"

# What hack/lib/version.sh stamps into release builds: clients (helm kubeVersion,
# kubectl skew warnings, kubelet's node version) read the gitVersion.
minor=${k8s_version#v1.}; minor=${minor%%.*}
kflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  kflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

if ! current kubernetes kube-apiserver || ! current kubernetes kubectl; then
  build kubernetes "$kflags" \
    kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
    kubectl=k8s.io/kubernetes/cmd/kubectl
else
  log "kube-apiserver, kubectl: cached"
fi

if [[ ${K8S_BINS_NODES:-} == 1 ]]; then
  need=()
  for b in kubelet kube-proxy kube-scheduler kube-controller-manager; do
    current kubernetes "$b" || need+=("$b=k8s.io/kubernetes/cmd/$b")
  done
  if ((${#need[@]})); then
    build kubernetes "$kflags" "${need[@]}"
  else
    log "kubelet, kube-proxy, kube-scheduler, kube-controller-manager: cached"
  fi
fi

if [[ ${K8S_BINS_GITOPS:-} == 1 ]]; then
  # kapply (cli-utils' cmd/ main package): `kapply status` reports kstatus (Current, InProgress,
  # Failed, NotFound, ...) of the objects an inventory lists; see test/lab/gitops.ts.
  if ! current cli-utils kapply; then
    build cli-utils "-s -w" kapply=sigs.k8s.io/cli-utils/cmd
  else
    log "kapply (cli-utils $cli_utils_version): cached"
  fi
fi

if [[ ${K8S_BINS_PROMTOOL:-} == 1 ]]; then
  if ! current promtool promtool; then
    # Module v0.3NN.P is Prometheus 3.NN.P; the -X flags are what its Makefile (promu) stamps.
    pv=${prometheus_version#v0.3}; pv="3.$((10#${pv%%.*})).${pv#*.}"
    build promtool "-s -w -X github.com/prometheus/common/version.Version=$pv -X github.com/prometheus/common/version.Branch=HEAD" \
      promtool=github.com/prometheus/prometheus/cmd/promtool
  else
    log "promtool (prometheus $prometheus_version): cached"
  fi
fi

if [[ ${K8S_BINS_KREW:-} == 1 ]]; then
  # Named kubectl-krew so that kubectl finds it as `kubectl krew` on a PATH with this dir.
  if ! current krew kubectl-krew; then
    build krew "-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$krew_version" \
      kubectl-krew=sigs.k8s.io/krew/cmd/krew
  else
    log "kubectl-krew (krew $krew_version): cached"
  fi
fi

if ! current etcd etcd; then
  build etcd "-s -w" etcd=go.etcd.io/etcd/server/v3
else
  log "etcd: cached"
fi

if [[ ${K8S_BINS_SKIP_HELM:-} == 1 ]]; then
  log "helm: skipped (K8S_BINS_SKIP_HELM=1)"
elif ! current helm helm; then
  # Same -X flags as helm's Makefile: its version, and the Kubernetes version its
  # client-go implies (client-go v0.N -> 1.N) for `helm template`/`lint` without a cluster.
  hminor=${helm_k8s_version#v0.}; hminor=${hminor%%.*}
  hflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    hflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$hminor"
  done
  build helm "$hflags" helm=helm.sh/helm/v3/cmd/helm
else
  log "helm: cached"
fi

"$bin_dir/kube-apiserver" --version >&2
echo "$bin_dir"
