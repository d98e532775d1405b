#!/bin/sh
# Runs inside a lab node kernel as its init system: what a Kubernetes node runs under systemd.
# containerd (with runc and the CNI bridge), the lab's images imported with ctr (no registry),
# kube-proxy and kubelet, which joins the lab's API server. Then it obeys the host through files
# in the node directory $1 (written by test/lab/kube-cluster.ts):
#   node.env      NODE_NAME, NODE_IP, K8S_BIN, IMAGES (tars), NODE_LABELS
#   exec/X.sh     run it, leave X.out and X.rc
#   stop          stop kubelet, the pods' containers and containerd; the kernel halts
# Progress marks (seconds since the epoch, then what) go to logs/marks.log.
set -u
dir=$1
. "$dir/node.env"
log=$dir/logs
mkdir -p "$log"
mark() { echo "$(date +%s.%N) $*" >> "$log/marks.log"; }
mark kernel-up

# What a distribution's boot does for a container runtime: cgroup v2, shared mounts (kubelet's
# mount propagation), forwarding, bridged traffic through netfilter. /var/log is the host's
# directory on hostfs: every node gets its own for pod logs.
mount -t tmpfs tmpfs /var/log
# And its own /var/lib: hostPath volumes there (the agent's ownership record, its VRRP record)
# must be this node's, as on a real node, not the host's directory shared by every lab node.
mount -t tmpfs tmpfs /var/lib
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# The node's own services (containerd and its shims, kubelet, kube-proxy, this loop) share one
# cgroup, as under systemd's system.slice: left in the root cgroup each would weigh as much as all
# of kubepods, and the pods would starve whenever kubelet and containerd are busy.
echo '+cpu +memory +pids' > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/system.slice
echo $$ > /sys/fs/cgroup/system.slice/cgroup.procs
mount --make-rshared /
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
# cAdvisor needs a clock speed, and UML's /proc/cpuinfo has none: kubelet would refuse to start.
# containerd's images and container layers: the node's "disk", in its memory (overlayfs cannot
# sit on hostfs), not capped at half of it as /run is.
mkdir -p /run/containerd-root
mount -t tmpfs -o size=100% containerd-root /run/containerd-root
awk '{print} /^model name/{print "cpu MHz\t\t: 2000.000"}' /proc/cpuinfo > /run/cpuinfo
mount --bind /run/cpuinfo /proc/cpuinfo

containerd --config "$dir/containerd.toml" > "$log/containerd.log" 2>&1 &
i=0
until ctr version > /dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 300 ] && { echo "containerd did not start" >> "$log/node.err"; break; }
  sleep 0.2
done
mark containerd-up
for t in $IMAGES; do
  ctr -n k8s.io images import "$t" >> "$log/images.log" 2>&1 || echo "import $t failed" >> "$log/node.err"
done
mark images-imported

"$K8S_BIN/kube-proxy" --config="$dir/kube-proxy.yaml" --hostname-override="$NODE_NAME" > "$log/kube-proxy.log" 2>&1 &
echo $! > /run/kube-proxy.pid
"$K8S_BIN/kubelet" --config="$dir/kubelet.yaml" --kubeconfig="$dir/kubelet.kubeconfig" --root-dir=/run/kubelet \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --node-labels="$NODE_LABELS" --v=1 > "$log/kubelet.log" 2>&1 &
echo $! > /run/kubelet.pid
mark kubelet-started
touch "$dir/started"

ctl=$dir
. "$(dirname "$0")/node-exec.sh"
while [ ! -e "$dir/stop" ]; do
  run_execs
  sleep 0.1
done

mark stopping
kill "$(cat /run/kubelet.pid)" "$(cat /run/kube-proxy.pid)" 2> /dev/null
sleep 1
# Containers die with their shims; containerd last.
for p in $(pidof containerd-shim-runc-v2); do kill -9 "$p"; done
kill "$(pidof containerd)" 2> /dev/null
sleep 0.5
mark halt
