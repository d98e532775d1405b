# The bird sidecar of the lvs-operator agent (agent.bird.sidecar): BIRD 2 in its own container of
# the agent's pod, so an agent container restart keeps the BGP sessions and the routes. The agent
# (--bird=sidecar) writes DIR/bird.conf, only after BIRD has parsed it, and reloads it with
# `birdc configure` on DIR/bird.ctl. A node without a BGP group never gets a bird.conf: this waits.
# Usage: sh bird-sidecar.sh DIR   (kept to POSIX sh: the image has no bash)
set -eu
dir=${1:?usage: bird-sidecar.sh DIR}
waited=0
until [ -s "$dir/bird.conf" ]; do
  [ "$waited" -eq 0 ] && echo "bird-sidecar: waiting for the agent to write $dir/bird.conf"
  waited=1
  sleep 1
done
echo "bird-sidecar: starting BIRD on $dir/bird.conf"
exec bird -f -c "$dir/bird.conf" -s "$dir/bird.ctl"
