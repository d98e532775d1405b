#!/bin/sh
# Runs inside a lab node kernel: keeps the agent running like a DaemonSet pod would, and obeys
# the host through files in the control directory $1:
#   restart     -> SIGTERM the agent, start a new one (kernel state stays)
#   stop        -> SIGTERM the agent and return (the kernel halts)
#   exec/X.sh   -> run it, leave X.out and X.rc
# Each agent start that answers /readyz leaves agent-started.<n>.
ctl="$1"; shift
n=0
. "$(dirname "$0")/node-exec.sh"
while [ ! -e "$ctl/stop" ]; do
  n=$((n + 1))
  "$@" >> "$ctl/agent.log" 2>&1 &
  pid=$!
  ready=0
  while kill -0 "$pid" 2>/dev/null && [ ! -e "$ctl/stop" ] && [ ! -e "$ctl/restart" ]; do
    if [ "$ready" = 0 ] && curl -sf --max-time 2 -o /dev/null http://127.0.0.1:9477/readyz; then
      ready=1; touch "$ctl/agent-started.$n"
    fi
    run_execs
    sleep 0.1
  done
  rm -f "$ctl/restart"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  echo "supervisor: agent $n exited with $?" >> "$ctl/agent.log"
done
